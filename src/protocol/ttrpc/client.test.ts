import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code } from "./code.js";
import { type Harness, startHarness } from "./harness.test-util.js";
import { TtrpcError } from "./status.js";

async function failure(promise: Promise<unknown>): Promise<TtrpcError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof TtrpcError);
    return error;
  }
  assert.fail("the call succeeded");
}

describe("TtrpcClient", () => {
  let h: Harness;

  before(async () => {
    h = await startHarness();
    h.server.register("t.S", {
      Echo: (p) => p,
      Block: (_p, ctx) =>
        new Promise((_resolve, reject) =>
          ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)),
        ),
      Slow: () => new Promise((resolve) => setTimeout(() => resolve(Uint8Array.of(1)), 200)),
    });
  });

  after(() => h.close());

  it("fails a call with DEADLINE_EXCEEDED when its timeout passes", async () => {
    const c = await h.client();
    const e = await failure(c.call("t.S", "Block", new Uint8Array(0), { timeoutMs: 30 }));
    assert.equal(e.code, Code.DEADLINE_EXCEEDED);
    assert.equal(c.pendingCalls, 0);
  });

  it("fails a call with CANCELLED when its signal aborts, and ignores the late reply", async () => {
    const c = await h.client();
    const ac = new AbortController();
    const pending = c.call("t.S", "Slow", new Uint8Array(0), { signal: ac.signal });
    ac.abort();
    assert.equal((await failure(pending)).code, Code.CANCELLED);
    await new Promise((r) => setTimeout(r, 250));
    assert.deepEqual([...(await c.call("t.S", "Echo", Uint8Array.of(7)))], [7]);
  });

  it("fails calls in flight and later calls with UNAVAILABLE once closed", async () => {
    const c = await h.client();
    const pending = c.call("t.S", "Block", new Uint8Array(0));
    c.close();
    assert.equal((await failure(pending)).code, Code.UNAVAILABLE);
    assert.equal((await failure(c.call("t.S", "Echo", new Uint8Array(0)))).code, Code.UNAVAILABLE);
  });

  it("refuses a request larger than the frame limit before sending it", async () => {
    const c = await h.client();
    const e = await failure(c.call("t.S", "Echo", new Uint8Array(4 << 20)));
    assert.equal(e.code, Code.RESOURCE_EXHAUSTED);
    assert.deepEqual([...(await c.call("t.S", "Echo", Uint8Array.of(1)))], [1]);
  });
});
