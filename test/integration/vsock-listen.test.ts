import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { before, describe, it } from "node:test";
import { listenVsockFd, serverFromListeningFd } from "../../src/sys/listening-socket.js";
import { startAgent } from "../support/agent-process.js";

const VMADDR_CID_ANY = -1;

/** A vsock port nobody on this machine listens on. */
async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    if (!(await portIsTaken(port))) return port;
  }
  throw new Error("no free vsock port found");
}

async function portIsTaken(port: number): Promise<boolean> {
  try {
    const server = await serverFromListeningFd(
      listenVsockFd(VMADDR_CID_ANY, port),
      () => {},
      (error) => {
        throw error;
      },
    );
    await new Promise((resolve) => server.close(resolve));
    return false;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") return true;
    throw error;
  }
}

describe("vsock listening (AF_VSOCK, for real)", () => {
  before(() => {
    assert.ok(existsSync("/dev/vsock"), "this test needs /dev/vsock (a VM guest with a vsock transport)");
  });

  it("binds and listens on any CID, holds the port, and releases it on close", async () => {
    const port = await freePort();
    const server = await serverFromListeningFd(
      listenVsockFd(VMADDR_CID_ANY, port),
      () => {},
      (error) => {
        throw error;
      },
    );
    assert.ok(server.listening);
    assert.throws(() => listenVsockFd(VMADDR_CID_ANY, port), { code: "EADDRINUSE", syscall: "bind" });
    await new Promise((resolve) => server.close(resolve));
    assert.equal(await portIsTaken(port), false);
  });

  it("runs berth-agent on vsock://-1:PORT, as Kata's default address does on 1024", async () => {
    const port = await freePort();
    const agent = await startAgent({ args: ["--server-addr", `vsock://-1:${port}`], ready: "listening" });
    try {
      const line = agent.logs.find((l) => l.msg === "listening");
      assert.equal(line?.server_addr, `vsock://-1:${port}`);
      assert.equal(await portIsTaken(port), true);
    } finally {
      assert.deepEqual(await agent.stop("SIGTERM"), { code: 0, signal: null });
    }
    assert.equal(await portIsTaken(port), false);
  });
});
