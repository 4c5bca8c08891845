import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, describe, it } from "node:test";
import { Code } from "./code.js";
import { encodeFrame, HEADER_LENGTH, MessageType } from "./frame.js";
import { GOLDEN_CHECK_REQUEST, GOLDEN_CHECK_RESPONSE } from "./golden.test-util.js";
import { type Harness, type RawConnection, startHarness } from "./harness.test-util.js";
import { decodeResponse, encodeRequest } from "./messages.js";
import type { CallContext } from "./server.js";
import { TtrpcError } from "./status.js";

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

function requestFrame(
  streamId: number,
  service: string,
  method: string,
  payload = new Uint8Array(0),
  timeoutNano = 0n,
) {
  return encodeFrame(
    streamId,
    MessageType.REQUEST,
    0,
    encodeRequest({ service, method, payload, timeoutNano, metadata: [] }),
  );
}

async function statusOf(promise: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof TtrpcError, `expected a TtrpcError, got ${String(error)}`);
    return { code: error.code, message: error.message };
  }
  assert.fail("the call succeeded");
}

async function responseStatuses(raw: RawConnection, count: number) {
  return (await raw.frames(count)).map((f) => {
    assert.ok(f.kind === "frame");
    assert.equal(f.type, MessageType.RESPONSE);
    const res = decodeResponse(f.payload);
    return {
      streamId: f.streamId,
      code: res.status?.code ?? 0,
      message: res.status?.message ?? "",
      payload: str(res.payload),
    };
  });
}

describe("TtrpcServer", () => {
  let h: Harness;
  const aborted: { method: string; reason: unknown }[] = [];
  let lastContext: CallContext | undefined;

  before(async () => {
    h = await startHarness();
    h.server.register("grpc.Health", { Check: () => Uint8Array.of(0x08, 0x01) });
    h.server.register("test.Svc", {
      Echo: (payload, ctx) => {
        lastContext = ctx;
        return payload;
      },
      Delay: async (payload) => {
        await new Promise((resolve) => setTimeout(resolve, Number(str(payload))));
        return payload;
      },
      Block: (_payload, ctx) =>
        new Promise((_resolve, reject) => {
          ctx.signal.addEventListener("abort", () => {
            aborted.push({ method: "Block", reason: ctx.signal.reason });
            reject(ctx.signal.reason);
          });
        }),
      Fail: (payload) => {
        throw new TtrpcError(Code.NOT_FOUND, `no such thing ${JSON.stringify(str(payload))}`);
      },
      Crash: () => {
        throw new Error("boom");
      },
      Reject: async () => {
        throw new RangeError("async boom");
      },
      Huge: () => new Uint8Array((4 << 20) + 1),
    });
  });

  after(() => h.close());

  it("answers the captured containerd/ttrpc Health.Check byte for byte", async () => {
    const raw = await h.raw();
    raw.write(GOLDEN_CHECK_REQUEST);
    const [frame] = await raw.frames(1);
    assert.ok(frame?.kind === "frame");
    assert.deepEqual(
      Buffer.concat([GOLDEN_CHECK_RESPONSE.subarray(0, HEADER_LENGTH), frame.payload]),
      GOLDEN_CHECK_RESPONSE,
    );
    assert.equal(frame.streamId, 1);
  });

  it("answers calls out of order, and a call that never returns delays no other", async () => {
    const c = await h.client();
    const blocked = c.call("test.Svc", "Block", new Uint8Array(0)).catch(() => "blocked call failed");
    const order: string[] = [];
    await Promise.all(
      ["120", "10", "60"].map((ms) => c.call("test.Svc", "Delay", text(ms)).then((p) => order.push(str(p)))),
    );
    assert.deepEqual(order, ["10", "60", "120"]);
    assert.equal(c.pendingCalls, 1);
    c.close();
    assert.equal(await blocked, "blocked call failed");
  });

  it("serves a thousand concurrent calls on one connection", async () => {
    const c = await h.client();
    const replies = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => c.call("test.Svc", "Echo", text(String(i)))),
    );
    assert.deepEqual(
      replies.map(str),
      Array.from({ length: 1000 }, (_, i) => String(i)),
    );
  });

  it("refuses even and reused stream ids with INVALID_ARGUMENT and keeps the connection", async () => {
    const raw = await h.raw();
    raw.write(requestFrame(2, "test.Svc", "Echo", text("even")));
    raw.write(requestFrame(5, "test.Svc", "Echo", text("five")));
    raw.write(requestFrame(5, "test.Svc", "Echo", text("again")));
    raw.write(requestFrame(3, "test.Svc", "Echo", text("late but new")));
    const got = await responseStatuses(raw, 4);
    assert.deepEqual(
      got.map((r) => [r.streamId, r.code, r.payload]),
      [
        [2, Code.INVALID_ARGUMENT, ""],
        [5, Code.OK, "five"],
        [5, Code.INVALID_ARGUMENT, ""],
        [3, Code.OK, "late but new"],
      ],
    );
    assert.match(got[0]?.message ?? "", /stream id 2 is even/);
    assert.match(got[2]?.message ?? "", /stream id 5 was already used/);
  });

  it("answers a frame over 4 MiB with RESOURCE_EXHAUSTED, discards it, and keeps the connection", async () => {
    const raw = await h.raw();
    const big = Buffer.alloc((4 << 20) + 100, 0x41);
    raw.write(requestFrame(1, "test.Svc", "Echo", big));
    raw.write(requestFrame(3, "test.Svc", "Echo", text("after")));
    const [first, second] = await responseStatuses(raw, 2);
    assert.equal(first?.code, Code.RESOURCE_EXHAUSTED);
    assert.match(first?.message ?? "", /exceeds the limit of 4194304 bytes/);
    assert.deepEqual([second?.streamId, second?.code, second?.payload], [3, Code.OK, "after"]);
  });

  it("answers an undecodable request with INVALID_ARGUMENT", async () => {
    const raw = await h.raw();
    raw.write(encodeFrame(1, MessageType.REQUEST, 0, Uint8Array.of(0x0a, 0xff, 0xff)));
    raw.write(requestFrame(3, "test.Svc", "Echo", text("ok")));
    const [bad, good] = await responseStatuses(raw, 2);
    assert.equal(bad?.code, Code.INVALID_ARGUMENT);
    assert.match(bad?.message ?? "", /cannot decode the request envelope/);
    assert.equal(good?.payload, "ok");
  });

  it("ignores frames that are not requests", async () => {
    const raw = await h.raw();
    raw.write(encodeFrame(1, MessageType.DATA, 0, text("data")));
    raw.write(encodeFrame(3, MessageType.RESPONSE, 0, text("resp")));
    raw.write(encodeFrame(5, 0x7f, 0, text("unknown type")));
    raw.write(requestFrame(7, "test.Svc", "Echo", text("still here")));
    const [only] = await responseStatuses(raw, 1);
    assert.deepEqual([only?.streamId, only?.payload], [7, "still here"]);
  });

  it("answers unknown services and methods with UNIMPLEMENTED", async () => {
    const c = await h.client();
    const service = await statusOf(c.call("grpc.Nope", "Check", new Uint8Array(0)));
    assert.deepEqual(service, { code: Code.UNIMPLEMENTED, message: 'unknown service "grpc.Nope"' });
    const method = await statusOf(c.call("grpc.Health", "Nope", new Uint8Array(0)));
    assert.deepEqual(method, {
      code: Code.UNIMPLEMENTED,
      message: 'unknown method "Nope" of service "grpc.Health"',
    });
  });

  it("honours timeout_nano: the handler's signal fires and the caller gets DEADLINE_EXCEEDED", async () => {
    const raw = await h.raw();
    const before = aborted.length;
    raw.write(requestFrame(1, "test.Svc", "Block", new Uint8Array(0), 50_000_000n));
    const start = Date.now();
    const [res] = await responseStatuses(raw, 1);
    assert.equal(res?.code, Code.DEADLINE_EXCEEDED);
    assert.match(res?.message ?? "", /deadline exceeded after 50ms/);
    assert.ok(Date.now() - start >= 45);
    assert.equal(aborted.length, before + 1);
    const reason = aborted.at(-1)?.reason;
    assert.ok(reason instanceof TtrpcError && reason.code === Code.DEADLINE_EXCEEDED);
  });

  it("answers a negative timeout with DEADLINE_EXCEEDED at once", async () => {
    const raw = await h.raw();
    raw.write(requestFrame(1, "test.Svc", "Echo", text("x"), -1n));
    const [res] = await responseStatuses(raw, 1);
    assert.equal(res?.code, Code.DEADLINE_EXCEEDED);
  });

  it("passes metadata and the deadline to the handler", async () => {
    const c = await h.client();
    await c.call("test.Svc", "Echo", text("md"), {
      metadata: { Trace: ["a", "b"], other: "c" },
      timeoutMs: 10_000,
    });
    assert.deepEqual(lastContext?.metadata.get("trace"), ["a", "b"]);
    assert.deepEqual(lastContext?.metadata.get("other"), ["c"]);
    assert.equal(lastContext?.service, "test.Svc");
    assert.equal(lastContext?.method, "Echo");
    const left = (lastContext?.deadline ?? 0) - Date.now();
    assert.ok(left > 9_000 && left <= 10_000, `deadline ${left} ms away`);
  });

  it("aborts every in-flight handler of a connection when it closes", async () => {
    const c = await h.client();
    const before = aborted.length;
    const calls = [1, 2, 3].map(() => c.call("test.Svc", "Block", new Uint8Array(0)).catch(() => undefined));
    await c.call("test.Svc", "Echo", new Uint8Array(0));
    c.close();
    await Promise.all(calls);
    const deadline = Date.now() + 2000;
    while (aborted.length < before + 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal(aborted.length, before + 3);
    const reason = aborted.at(-1)?.reason;
    assert.ok(reason instanceof TtrpcError && reason.code === Code.CANCELLED);
  });

  it("carries a handler's TtrpcError, and maps other throws to UNKNOWN by default", async () => {
    const c = await h.client();
    assert.deepEqual(await statusOf(c.call("test.Svc", "Fail", text("x"))), {
      code: Code.NOT_FOUND,
      message: 'no such thing "x"',
    });
    assert.deepEqual(await statusOf(c.call("test.Svc", "Crash", new Uint8Array(0))), {
      code: Code.UNKNOWN,
      message: "boom",
    });
    assert.deepEqual(await statusOf(c.call("test.Svc", "Reject", new Uint8Array(0))), {
      code: Code.UNKNOWN,
      message: "async boom",
    });
  });

  it("refuses to send a reply over the frame limit", async () => {
    const c = await h.client();
    const s = await statusOf(c.call("test.Svc", "Huge", new Uint8Array(0)));
    assert.equal(s.code, Code.RESOURCE_EXHAUSTED);
    assert.match(s.message, /response of 4194310 bytes exceeds the limit/);
  });

  it("closes the connection when the peer ends its side", async () => {
    const raw = await h.raw();
    raw.socket.end();
    await once(raw.socket, "close");
  });
});

describe("TtrpcServer limits and shutdown", () => {
  it("refuses calls beyond maxConcurrentCalls with RESOURCE_EXHAUSTED", async () => {
    const h = await startHarness({ maxConcurrentCalls: 2 });
    try {
      h.server.register("t.S", {
        Block: (_p, ctx) =>
          new Promise((_r, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason))),
      });
      const c = await h.client();
      const blocked = [
        c.call("t.S", "Block", new Uint8Array(0)).catch(() => {}),
        c.call("t.S", "Block", new Uint8Array(0)).catch(() => {}),
      ];
      const s = await statusOf(c.call("t.S", "Block", new Uint8Array(0)));
      assert.equal(s.code, Code.RESOURCE_EXHAUSTED);
      assert.match(s.message, /2 calls in flight \(limit 2\)/);
      c.close();
      await Promise.all(blocked);
    } finally {
      await h.close();
    }
  });

  it("uses the statusFromError option for thrown values", async () => {
    const h = await startHarness({
      statusFromError: (e) => ({ code: Code.INTERNAL, message: `mapped: ${String(e)}`, details: [] }),
    });
    try {
      h.server.register("t.S", {
        Crash: () => {
          throw "plain string";
        },
      });
      const c = await h.client();
      assert.deepEqual(await statusOf(c.call("t.S", "Crash", new Uint8Array(0))), {
        code: Code.INTERNAL,
        message: "mapped: plain string",
      });
    } finally {
      await h.close();
    }
  });

  it("shutdown() lets calls in flight finish within the grace period and refuses new ones", async () => {
    const h = await startHarness();
    try {
      h.server.register("t.S", {
        Delay: async (p) => {
          await new Promise((r) => setTimeout(r, 50));
          return p;
        },
      });
      const c = await h.client();
      const inFlight = c.call("t.S", "Delay", text("done"));
      await new Promise((r) => setTimeout(r, 5));
      const stopping = h.server.shutdown(2000);
      const refused = await statusOf(c.call("t.S", "Delay", text("late")));
      assert.equal(refused.code, Code.UNAVAILABLE);
      assert.equal(str(await inFlight), "done");
      await stopping;
      assert.equal(h.server.connectionCount, 0);
    } finally {
      await h.close();
    }
  });
});
