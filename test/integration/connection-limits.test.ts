import assert from "node:assert/strict";
import { once } from "node:events";
import { readdirSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { describe, it } from "node:test";
import { DEFAULT_FIRST_BYTE_TIMEOUT_MS } from "../../src/protocol/dispatch.js";
import { connectTtrpc } from "../../src/protocol/ttrpc/client.js";
import { DEFAULT_MAX_CONNECTIONS } from "../../src/transport/listener.js";
import { type AgentProcess, startAgent } from "../support/agent-process.js";
import { runCommand } from "../support/run-command.js";

async function healthy(agent: AgentProcess): Promise<boolean> {
  try {
    const client = await connectTtrpc(agent.socketPath);
    try {
      await client.call("grpc.Health", "Check", new Uint8Array(0), { timeoutMs: 2000 });
      return true;
    } finally {
      client.close();
    }
  } catch {
    return false;
  }
}

async function open(path: string, count: number): Promise<Socket[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const socket = connect(path);
      socket.on("error", () => {});
      await once(socket, "connect").catch(() => undefined);
      return socket;
    }),
  );
}

const openFds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("berth-agent's connections", () => {
  it("review #12: at its descriptor limit it keeps running, and serves again once idle connections close or time out", async () => {
    const agent = await startAgent();
    const idle: Socket[] = [];
    try {
      const limit = openFds(agent.pid) + 20;
      const set = await runCommand("prlimit", ["--pid", String(agent.pid), `--nofile=${limit}:${limit}`]);
      assert.equal(set.code, 0, set.stderr);

      idle.push(...(await open(agent.socketPath, 40)));
      await sleep(200);
      assert.ok(openFds(agent.pid) >= limit - 1, `${openFds(agent.pid)} fds open, limit ${limit}`);
      assert.equal(await healthy(agent), false, "a connection at the descriptor limit was served");
      for (const s of idle.splice(0)) s.destroy();
      await sleep(200);
      assert.equal(await healthy(agent), true, "not served again once the idle connections closed");

      idle.push(...(await open(agent.socketPath, 40)));
      await sleep(200);
      assert.equal(await healthy(agent), false, "a connection at the descriptor limit was served");
      await sleep(DEFAULT_FIRST_BYTE_TIMEOUT_MS + 500);
      assert.equal(await healthy(agent), true, "not served again after idle connections timed out");
      assert.ok(
        idle.every((s) => s.destroyed || s.readableEnded),
        "an idle connection is still open",
      );
    } finally {
      for (const s of idle) s.destroy();
      await agent.stop();
    }
  });

  it(`review #12: refuses connections beyond ${DEFAULT_MAX_CONNECTIONS} at once, and serves again once others close`, async () => {
    const agent = await startAgent();
    const held: Socket[] = [];
    try {
      held.push(...(await open(agent.socketPath, DEFAULT_MAX_CONNECTIONS)));
      // One byte each: a ttrpc frame header begun, so that the first-byte timeout leaves them open.
      for (const s of held) s.write(Uint8Array.of(0));
      await sleep(200);
      const [extra] = await open(agent.socketPath, 1);
      const closed = await Promise.race([
        once(extra as Socket, "close").then(() => true),
        sleep(1000).then(() => false),
      ]);
      assert.ok(closed, "the connection over the cap was not closed at once");
      assert.equal(await healthy(agent), false);
      const line = await agent.waitForLog((l) => l.msg === "refused a connection: too many are open");
      assert.deepEqual(
        [line.level, line.open, line.limit],
        ["warn", DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS],
      );
      held.pop()?.destroy();
      await sleep(100);
      assert.equal(await healthy(agent), true);
    } finally {
      for (const s of held) s.destroy();
      await agent.stop();
    }
  });
});
