import assert from "node:assert/strict";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import type { ServiceError } from "@grpc/grpc-js";
import { connectTtrpc } from "../../src/protocol/ttrpc/client.js";
import { Code } from "../../src/protocol/ttrpc/code.js";
import { createFrameDecoder, encodeFrame, MessageType } from "../../src/protocol/ttrpc/frame.js";
import { decodeResponse, encodeRequest } from "../../src/protocol/ttrpc/messages.js";
import { type AgentProcess, startAgent } from "../support/agent-process.js";
import { AgentRpc } from "../support/agent-rpc.js";
import { grpcCall } from "../support/grpc-call.js";

const BUDGET = 16 << 20;

function requestFrame(streamId: number, service: string, method: string, payload: Uint8Array): Buffer {
  return encodeFrame(
    streamId,
    MessageType.REQUEST,
    0,
    encodeRequest({ service, method, payload, timeoutNano: 0n, metadata: [] }),
  );
}

/** A request of an empty message padded with an unknown length-delimited field 15, `total` bytes in all. */
function padded(total: number): Uint8Array {
  const length = total - 5;
  const out = new Uint8Array(total).fill(0x62);
  out.set([
    0x7a,
    (length & 0x7f) | 0x80,
    ((length >>> 7) & 0x7f) | 0x80,
    ((length >>> 14) & 0x7f) | 0x80,
    length >>> 21,
  ]);
  return out;
}

/** A raw ttrpc connection that collects the status codes of the replies it reads. */
async function rawConnection(path: string) {
  const socket: Socket = connect(path);
  socket.on("error", () => {});
  await once(socket, "connect");
  const decoder = createFrameDecoder(8 << 20);
  const replies: { streamId: number; code: number; message: string }[] = [];
  socket.on("data", (chunk: Buffer) => {
    for (const f of decoder.push(chunk)) {
      if (f.kind !== "frame") continue;
      const status = decodeResponse(f.payload).status;
      replies.push({ streamId: f.streamId, code: status?.code ?? 0, message: status?.message ?? "" });
    }
  });
  return { socket, replies };
}

async function until(condition: () => boolean, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

describe("berth-agent under floods (live)", () => {
  let agent: AgentProcess;

  before(async () => {
    agent = await startAgent({ args: ["--log-level", "warn", "--rpc-request-budget", String(BUDGET)] });
  });

  after(async () => {
    await agent.stop();
  });

  it("review #8: refuses CreateContainers of 2 million empty storages at once, its memory flat", async (t) => {
    const count = Math.floor(((4 << 20) - 200) / 2);
    const payload = new Uint8Array(4 + count * 2);
    payload.set([0x0a, 2, 0x63, 0x31]);
    for (let i = 4; i < payload.length; i += 2) payload[i] = 0x2a;
    const rssBefore = agent.rssKiB();
    const { socket, replies } = await rawConnection(agent.socketPath);
    try {
      for (let i = 0; i < 6; i++)
        socket.write(requestFrame(1 + 2 * i, "grpc.AgentService", "CreateContainer", payload));
      await until(() => replies.length === 6, "six replies");
      for (const r of replies) {
        assert.equal(r.code, Code.RESOURCE_EXHAUSTED);
        assert.match(r.message, /it has more than 100000 fields \(the limit\)/);
      }
      const grown = (agent.rssKiB() - rssBefore) / 1024;
      t.diagnostic(`RSS grew by ${grown.toFixed(0)} MiB`);
      assert.ok(grown < 64, `RSS grew by ${grown.toFixed(0)} MiB`);
    } finally {
      socket.destroy();
    }
  });

  it("review #9: 100,000 frames with ids stepping by 4098 cost the agent little CPU", async (t) => {
    const { socket, replies } = await rawConnection(agent.socketPath);
    try {
      const frames: Buffer[] = [];
      for (let i = 0, id = 1; i < 100_000; i++, id += 4098)
        frames.push(encodeFrame(id, MessageType.REQUEST, 0, new Uint8Array(0)));
      const before = cpuSeconds(agent.pid);
      socket.write(Buffer.concat(frames));
      await until(() => replies.length === 100_000, "100,000 replies", 60_000);
      const spent = cpuSeconds(agent.pid) - before;
      t.diagnostic(`agent CPU for the flood: ${spent.toFixed(2)} s`);
      assert.ok(spent < 4, `the agent spent ${spent.toFixed(2)} s of CPU (7.3 s before the fix)`);
    } finally {
      socket.destroy();
    }
  });

  it("review #7: padded blocked calls are refused past the request budget, over ttrpc and gRPC alike, and hold no memory", async (t) => {
    const rpc = await AgentRpc.connect(agent.socketPath);
    const { socket, replies } = await rawConnection(agent.socketPath);
    try {
      await rpc.call("createSandbox", { sandboxId: "bounds", hostname: "bounds" });
      const rssBefore = agent.rssKiB();
      const request = padded((4 << 20) - 100);
      // 400 MiB sent; three calls fit in the budget at a time, and none keeps its padding.
      for (let i = 0; i < 100; i++) {
        if (!socket.write(requestFrame(1 + 2 * i, "grpc.AgentService", "GetOOMEvent", request))) {
          await once(socket, "drain");
        }
      }
      await until(() => replies.length === 97, "97 refusals");
      const pattern =
        /^requests in flight hold \d+ bytes; (this call needs \d+ more, past|a request of \d+ bytes does not fit) the limit of 16777216 bytes$/;
      for (const r of replies) {
        assert.equal(r.code, Code.RESOURCE_EXHAUSTED);
        assert.match(r.message, pattern);
      }
      const grown = (agent.rssKiB() - rssBefore) / 1024;
      t.diagnostic(`RSS grew by ${grown.toFixed(0)} MiB`);
      assert.ok(grown < 96, `RSS grew by ${grown.toFixed(0)} MiB for 400 MiB of padded calls`);

      const refused = await grpcCall(
        agent.socketPath,
        "/grpc.AgentService/GetOOMEvent",
        padded((4 << 20) - 1024),
        10_000,
      ).then(
        () => assert.fail("the gRPC call passed the shared budget"),
        (error: ServiceError) => error,
      );
      assert.equal(refused.code, Code.RESOURCE_EXHAUSTED);
      assert.match(refused.details, /past the limit of 16777216 bytes/);

      socket.destroy();
      await once(socket, "close");
      const client = await connectTtrpc(agent.socketPath);
      try {
        const call = client.call("grpc.AgentService", "GetOOMEvent", request, { timeoutMs: 300 });
        await assert.rejects(
          call,
          (e: { code?: number }) => e.code === Code.DEADLINE_EXCEEDED,
          "once the connection closed, the budget is back",
        );
      } finally {
        client.close();
      }
    } finally {
      socket.destroy();
      await rpc.call("destroySandbox", {}).catch(() => undefined);
      rpc.close();
    }
  });
});
