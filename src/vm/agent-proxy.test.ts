import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { MuxSession } from "../protocol/mux/index.js";
import { connectTtrpc, TtrpcServer } from "../protocol/ttrpc/index.js";
import { runAgentProxy } from "./agent-proxy.js";

/**
 * QEMU's end of the agent port, played by a unix socket server: behind it a guest session and a ttrpc
 * server, as berth runs them in the guest. One host connection at a time, as QEMU's chardev serves.
 */
class FakePort {
  readonly server: Server;
  readonly ttrpc = new TtrpcServer();
  current: Socket | undefined;
  connections = 0;

  constructor(path: string) {
    this.ttrpc.register("test.Echo", {
      Echo: (payload) => payload,
      Later: async (payload) => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        return Buffer.concat([Buffer.from("late:"), payload]);
      },
    });
    this.server = createServer((socket) => {
      this.connections++;
      this.current = socket;
      const session = new MuxSession({
        role: "guest",
        link: {
          write: (chunks) => {
            for (const chunk of chunks) socket.write(chunk);
          },
        },
        onStream: (stream) => this.ttrpc.serveConnection(stream),
      });
      socket.on("data", (chunk: Buffer) => session.receive(chunk));
      socket.on("error", () => {});
      socket.on("close", () => session.linkDown());
      session.linkUp();
    });
    this.server.listen(path);
  }
}

const call = async (socket: string, method: string, text: string) => {
  const client = await connectTtrpc(socket);
  try {
    return Buffer.from(
      await client.call("test.Echo", method, Buffer.from(text), { timeoutMs: 5000 }),
    ).toString();
  } finally {
    client.close();
  }
};

describe("runAgentProxy()", () => {
  let dir: string;
  let port: FakePort;
  let proxy: Promise<void>;
  const stop = new AbortController();
  const agentSocket = () => join(dir, "agent.sock");

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "berth-proxy-"));
    port = new FakePort(join(dir, "port.sock"));
    proxy = runAgentProxy({
      portSocket: join(dir, "port.sock"),
      agentSocket: agentSocket(),
      log: () => {},
      signal: stop.signal,
    });
    for (let i = 0; i < 200 && !existsSync(agentSocket()); i++) await new Promise((r) => setTimeout(r, 10));
  });

  after(async () => {
    stop.abort();
    await proxy;
    port.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("carries any number of clients at once, each its own connection", async () => {
    const replies = await Promise.all(
      Array.from({ length: 30 }, (_, i) => call(agentSocket(), "Echo", `c${i}`)),
    );
    assert.deepEqual(
      replies,
      Array.from({ length: 30 }, (_, i) => `c${i}`),
    );
  });

  it("never gives a client that went away mid-call's reply to the next client", async () => {
    const gone = await connectTtrpc(agentSocket());
    const pending = gone
      .call("test.Echo", "Later", Buffer.from("old"), { timeoutMs: 5000 })
      .catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    gone.close();
    await pending;
    const until = Date.now() + 600;
    while (Date.now() < until) assert.equal(await call(agentSocket(), "Echo", "new"), "new");
  });

  it("connects again when QEMU's end drops, and serves new clients in a new session", async () => {
    const before = port.connections;
    port.current?.destroy();
    let reply: string | undefined;
    for (let i = 0; i < 100 && reply === undefined; i++) {
      reply = await call(agentSocket(), "Echo", "again").catch(() => undefined);
    }
    assert.equal(reply, "again");
    assert.equal(port.connections, before + 1);
  });

  it("refuses a second proxy on a live agent socket", async () => {
    await assert.rejects(
      runAgentProxy({ portSocket: join(dir, "port.sock"), agentSocket: agentSocket(), log: () => {} }),
      /another server is listening there/,
    );
  });
});

describe("runAgentProxy() once the VM is gone", () => {
  it("ends, and removes its socket, when QEMU's end no longer answers", async () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-proxy-"));
    try {
      const port = new FakePort(join(dir, "port.sock"));
      const proxy = runAgentProxy({
        portSocket: join(dir, "port.sock"),
        agentSocket: join(dir, "a.sock"),
        log: () => {},
      });
      while (port.connections === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      const started = Date.now();
      port.server.close();
      port.current?.destroy();
      await proxy;
      assert.ok(Date.now() - started < 3000, `ended after ${Date.now() - started} ms`);
      assert.equal(existsSync(join(dir, "a.sock")), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
