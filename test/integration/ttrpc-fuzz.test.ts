import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { connectTtrpc } from "../../src/protocol/ttrpc/client.js";
import { type AgentProcess, startAgent } from "../support/agent-process.js";
import { createPrng, type Prng } from "../support/prng.js";
import { fuzzedFrame } from "../support/ttrpc-fuzz-frames.js";

const FRAMES = 100_000;
const FRAMES_PER_CONNECTION = 2_000;
const PARALLEL_CONNECTIONS = 4;

function openSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path, () => resolve(socket));
    socket.once("error", reject);
  });
}

async function fuzzConnection(path: string, rng: Prng, count: number): Promise<void> {
  const socket = await openSocket(path);
  socket.on("data", () => {});
  socket.on("error", () => {});
  let streamId = 1;
  let batch: Buffer[] = [];
  let batchBytes = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const chunk = Buffer.concat(batch);
    batch = [];
    batchBytes = 0;
    if (!socket.write(chunk) && !socket.destroyed) {
      await new Promise<void>((resolve) => {
        socket.once("drain", resolve);
        socket.once("close", resolve);
      });
    }
  };
  for (let i = 0; i < count && !socket.destroyed; i++) {
    const frame = fuzzedFrame(rng, rng.int(10) === 0 ? rng.int(0x1_0000_0000) : streamId);
    streamId += 2;
    batch.push(frame);
    batchBytes += frame.length;
    if (batchBytes > 32 << 10) await flush();
  }
  await flush();
  await new Promise((resolve) => setTimeout(resolve, 20));
  socket.destroy();
}

describe("ttrpc fuzzing against a live berth-agent", () => {
  let agent: AgentProcess;

  before(async () => {
    agent = await startAgent({ args: ["--log-level", "warn"] });
  });

  after(async () => {
    await agent.stop("SIGKILL");
  });

  it(`survives ${FRAMES} random and mutated frames and still answers`, async (t) => {
    const seed = Number(process.env.BERTH_FUZZ_SEED ?? Date.now() % 0x1_0000_0000);
    t.diagnostic(`seed ${seed} (replay with BERTH_FUZZ_SEED=${seed})`);
    const rng = createPrng(seed);
    const fdsBefore = readdirSync(`/proc/${agent.pid}/fd`).length;
    let sent = 0;
    while (sent < FRAMES) {
      const round: Promise<void>[] = [];
      for (let c = 0; c < PARALLEL_CONNECTIONS && sent < FRAMES; c++) {
        const count = Math.min(FRAMES_PER_CONNECTION, FRAMES - sent);
        sent += count;
        round.push(fuzzConnection(agent.socketPath, createPrng(rng.int(0x1_0000_0000)), count));
      }
      await Promise.all(round);
    }
    assert.equal(sent, FRAMES);

    const client = await connectTtrpc(agent.socketPath);
    try {
      const reply = await client.call("grpc.Health", "Check", new Uint8Array(0), { timeoutMs: 5000 });
      assert.deepEqual([...reply], [0x08, 0x01]);
    } finally {
      client.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    const fdsAfter = readdirSync(`/proc/${agent.pid}/fd`).length;
    assert.ok(fdsAfter <= fdsBefore + 1, `agent holds ${fdsAfter} fds after the run, ${fdsBefore} before`);
    assert.equal(agent.stderr(), "");
  });
});
