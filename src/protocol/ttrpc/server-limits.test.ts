import assert from "node:assert/strict";
import { once } from "node:events";
import { describe, it } from "node:test";
import { ByteBudget } from "../../sys/byte-budget.js";
import { Code } from "./code.js";
import { encodeFrame, MessageType } from "./frame.js";
import { startHarness } from "./harness.test-util.js";
import { decodeResponse, encodeRequest } from "./messages.js";
import { TtrpcError } from "./status.js";

function requestFrame(streamId: number, method: string, payload = new Uint8Array(0)) {
  const body = encodeRequest({ service: "t.S", method, payload, timeoutNano: 0n, metadata: [] });
  return encodeFrame(streamId, MessageType.REQUEST, 0, body);
}

const envelope = (method: string, payloadLength: number) =>
  encodeRequest({
    service: "t.S",
    method,
    payload: new Uint8Array(payloadLength),
    timeoutNano: 0n,
    metadata: [],
  }).length;

const blockUntilAborted = (_payload: Uint8Array, ctx: { signal: AbortSignal }) =>
  new Promise<Uint8Array>((_resolve, reject) =>
    ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)),
  );

async function until(condition: () => boolean, what: string, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("TtrpcServer budgets", () => {
  it("review #7: refuses a call past the request budget shared by all connections, naming the numbers", async () => {
    const budget = new ByteBudget(2 * 1100);
    const h = await startHarness({ requestBudget: budget, callOverhead: 1000 });
    try {
      let unblock = () => {};
      const blocked = new Promise<Uint8Array>((resolve) => {
        unblock = () => resolve(new Uint8Array(0));
      });
      h.server.register("t.S", { Hold: () => blocked, Echo: (p) => p });
      const first = await h.client();
      const second = await h.client();
      const held = [
        first.call("t.S", "Hold", new Uint8Array(0)),
        second.call("t.S", "Hold", new Uint8Array(0)),
      ];
      const holding = 2 * (1000 + envelope("Hold", 0));
      await until(() => budget.used === holding, "both calls are charged");
      const third = await h.client();
      const refused = await third.call("t.S", "Echo", new Uint8Array(100)).then(
        () => assert.fail("the call passed the budget"),
        (error: unknown) => error,
      );
      assert.ok(refused instanceof TtrpcError);
      assert.equal(refused.code, Code.RESOURCE_EXHAUSTED);
      assert.equal(
        refused.message,
        `requests in flight hold ${holding} bytes; this call needs ${1000 + envelope("Echo", 100)} more, past the limit of 2200 bytes`,
      );
      unblock();
      await Promise.all(held);
      assert.equal(budget.used, 0);
      assert.equal((await third.call("t.S", "Echo", new Uint8Array(100))).length, 100);
    } finally {
      await h.close();
    }
  });

  it("review #7: gives the request budget back when a handler settles, not before", async () => {
    const budget = new ByteBudget(1 << 20);
    const h = await startHarness({ requestBudget: budget, callOverhead: 0 });
    try {
      let finish = () => {};
      const late = new Promise<Uint8Array>((resolve) => {
        finish = () => resolve(new Uint8Array(0));
      });
      h.server.register("t.S", { IgnoresAbort: () => late });
      const c = await h.client();
      const call = c
        .call("t.S", "IgnoresAbort", new Uint8Array(500), { timeoutMs: 20 })
        .catch((e: unknown) => e);
      assert.equal(((await call) as TtrpcError).code, Code.DEADLINE_EXCEEDED);
      assert.ok(budget.used > 500, "a handler still running after its deadline still holds its request");
      finish();
      await until(() => budget.used === 0, "the handler's request is given back");
    } finally {
      await h.close();
    }
  });

  it("review #7: a call keeps only its own request bytes, not the whole read they arrived in", async () => {
    const h = await startHarness();
    try {
      const kept: Uint8Array[] = [];
      h.server.register("t.S", {
        Keep: (payload) => {
          kept.push(payload);
          return new Uint8Array(0);
        },
      });
      const raw = await h.raw();
      const filler = Array.from({ length: 500 }, (_, i) => requestFrame(3 + 2 * i, "Nope"));
      raw.write(Buffer.concat([requestFrame(1, "Keep", Uint8Array.of(1, 2, 3)), ...filler]));
      await raw.frames(501);
      assert.equal(kept.length, 1);
      assert.ok((kept[0]?.buffer.byteLength ?? 0) < 64, `the call holds ${kept[0]?.buffer.byteLength} bytes`);
    } finally {
      await h.close();
    }
  });

  it("review #7: charges replies to the reply budget until the socket takes them, and frees them on close", async () => {
    const budget = new ByteBudget(64 << 20);
    const h = await startHarness({ replyBudget: budget, replyHighWaterMark: 64 << 20 });
    try {
      h.server.register("t.S", { Big: () => new Uint8Array(512 << 10) });
      const raw = await h.raw();
      raw.socket.pause();
      raw.write(Buffer.concat(Array.from({ length: 8 }, (_, i) => requestFrame(1 + 2 * i, "Big"))));
      await until(() => budget.used > 2 << 20, "replies the peer does not read are charged");
      raw.close();
      await until(() => budget.used === 0, "the closed connection's replies are given back");
      assert.equal(h.server.connectionCount, 0);
    } finally {
      await h.close();
    }
  });

  it("review #7: a connection whose peer does not read its replies starts no more calls until they drain", async () => {
    const h = await startHarness({ replyHighWaterMark: 64 << 10 });
    try {
      let started = 0;
      h.server.register("t.S", {
        Big: () => {
          started++;
          return new Uint8Array(256 << 10);
        },
      });
      const raw = await h.raw();
      raw.socket.pause();
      raw.write(Buffer.concat(Array.from({ length: 100 }, (_, i) => requestFrame(1 + 2 * i, "Big"))));
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.ok(started <= 2, `${started} calls started while the peer read nothing`);
      raw.socket.resume();
      const replies = await raw.frames(100, 10_000);
      assert.equal(started, 100);
      assert.ok(
        replies.every((f) => f.kind === "frame" && decodeResponse(f.payload).payload.length === 256 << 10),
      );
    } finally {
      await h.close();
    }
  });

  it("keeps serving other connections while one does not read", async () => {
    const h = await startHarness({ replyHighWaterMark: 64 << 10 });
    try {
      h.server.register("t.S", {
        Big: () => new Uint8Array(256 << 10),
        Echo: (p) => p,
        Block: blockUntilAborted,
      });
      const stuck = await h.raw();
      stuck.socket.pause();
      stuck.write(Buffer.concat(Array.from({ length: 50 }, (_, i) => requestFrame(1 + 2 * i, "Big"))));
      const c = await h.client();
      assert.equal((await c.call("t.S", "Echo", new Uint8Array(7))).length, 7);
      stuck.close();
      await once(stuck.socket, "close");
    } finally {
      await h.close();
    }
  });

  it("starts a flood's frames a few at a time, letting the event loop turn in between", async () => {
    const h = await startHarness();
    try {
      let started = 0;
      let inTurn = 0;
      let mostInOneTurn = 0;
      h.server.register("t.S", {
        Flood: () => {
          started++;
          if (inTurn++ === 0) setImmediate(() => (inTurn = 0));
          mostInOneTurn = Math.max(mostInOneTurn, inTurn);
          return new Uint8Array(0);
        },
      });
      const raw = await h.raw();
      raw.write(Buffer.concat(Array.from({ length: 20_000 }, (_, i) => requestFrame(1 + 2 * i, "Flood"))));
      await raw.frames(20_000);
      assert.equal(started, 20_000, "every frame of the flood is served");
      assert.ok(mostInOneTurn <= 100, `${mostInOneTurn} calls started in one turn of the event loop`);
    } finally {
      await h.close();
    }
  });

  it("review #7: never gathers a request the budget cannot take: it is refused as it streams in", async () => {
    const budget = new ByteBudget(1 << 20);
    const h = await startHarness({ requestBudget: budget, callOverhead: 1000 });
    try {
      h.server.register("t.S", { Echo: (p) => p });
      const held = budget.charge(1 << 19);
      let peak = 0;
      const charge = budget.charge.bind(budget);
      budget.charge = (bytes: number) => {
        const release = charge(bytes);
        peak = Math.max(peak, budget.used);
        return release;
      };
      const raw = await h.raw();
      raw.write(requestFrame(1, "Echo", new Uint8Array(900_000)));
      const [reply] = await raw.frames(1);
      assert.equal(reply?.kind, "frame");
      const status = reply?.kind === "frame" ? decodeResponse(reply.payload).status : undefined;
      assert.equal(status?.code, Code.RESOURCE_EXHAUSTED);
      assert.match(status?.message ?? "", /a request of \d+ bytes does not fit the limit of 1048576 bytes/);
      assert.equal(peak, 0, "nothing was charged for the refused request");
      held();
      const client = await h.client();
      assert.equal((await client.call("t.S", "Echo", new Uint8Array(900_000))).length, 900_000);
      assert.equal(budget.used, 0, "the charge of a request gathered is given back");
    } finally {
      await h.close();
    }
  });
});
