import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type Harness, startHarness } from "./harness.test-util.js";
import { asBytesField, lendHeadroom, REPLY_HEADROOM } from "./headroom.js";
import { TtrpcError } from "./status.js";

/** A payload as a handler frames it in place: one bytes field of `length` bytes of `fill`, lent room. */
function lentPayload(length: number, fill: number, written: () => void): Buffer {
  const whole = Buffer.allocUnsafeSlow(REPLY_HEADROOM + length);
  const data = lendHeadroom(whole.subarray(REPLY_HEADROOM).fill(fill), REPLY_HEADROOM, written);
  const payload = asBytesField(data, 1);
  assert.ok(payload);
  return payload;
}

describe("TtrpcServer replies framed in their payload's headroom", () => {
  let h: Harness;
  const writes: string[] = [];
  let release: (() => void) | undefined;

  before(async () => {
    h = await startHarness();
    h.server.register("t.Out", {
      Read: () => lentPayload(200_000, 0x62, () => writes.push("read")),
      Late: () =>
        new Promise<Uint8Array>((resolve) => {
          release = () => resolve(lentPayload(10, 0x63, () => writes.push("late")));
        }),
    });
  });
  after(() => h.close());

  it("reach the client whole, and say so once the socket has taken them", async () => {
    const client = await h.client();
    writes.length = 0;
    const reply = await client.call("t.Out", "Read", new Uint8Array(0));
    assert.equal(reply.length, 4 + 200_000);
    assert.deepEqual(reply.subarray(0, 4), Buffer.from([0x0a, 0xc0, 0x9a, 0x0c]));
    assert.ok(reply.subarray(4).every((b) => b === 0x62));
    // The socket's write callback may run just after the client has read the last byte.
    for (let i = 0; writes.length === 0 && i < 100; i++) await sleep(5);
    assert.deepEqual(writes, ["read"]);
  });

  it("of a call that timed out are never written, and their buffers are given back", async () => {
    const client = await h.client();
    writes.length = 0;
    await assert.rejects(client.call("t.Out", "Late", new Uint8Array(0), { timeoutMs: 50 }), TtrpcError);
    release?.();
    await sleep(20);
    assert.deepEqual(writes, ["late"]);
  });
});
