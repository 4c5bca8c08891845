import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { closeSync, existsSync, fstatSync, mkdtempSync, rmSync } from "node:fs";
import { stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { native } from "../sys/native.js";
import { ConsoleSocket } from "./console-socket.js";

const dir = mkdtempSync(join(tmpdir(), "berth-console-"));
let seq = 0;
const socketPath = () => join(dir, `console-${++seq}.sock`);

/** Connects to `path` and sends `fd` (or, with none, closes at once, as a runc that died would). */
function peer(path: string, fd?: number) {
  const script = `import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
if len(sys.argv) > 2: socket.send_fds(s, [b"/dev/pts/0"], [int(sys.argv[2])])`;
  const stdio = fd === undefined ? ["ignore", "inherit", "inherit"] : ["ignore", "inherit", "inherit", fd];
  return spawn("python3", ["-c", script, path, ...(fd === undefined ? [] : ["3"])], {
    stdio: stdio as ["ignore", "inherit", "inherit"],
  });
}

describe("ConsoleSocket", () => {
  // Polls do not keep a process alive; in the agent, the connection of the call waiting on one does.
  const keepAlive = setInterval(() => {}, 1000);
  after(() => clearInterval(keepAlive));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("receives the fd the peer sends, non-blocking, and removes its socket", async () => {
    const [r, w] = native().pipe();
    const socket = new ConsoleSocket(socketPath());
    // Listened for at once: the peer may exit while the receive is awaited, and a later once() would miss it.
    const senderExited = once(peer(socket.path, r), "exit");
    const fd = await socket.receive(AbortSignal.timeout(5000));
    await senderExited;
    try {
      assert.equal(fstatSync(fd).ino, fstatSync(r).ino);
      assert.equal(existsSync(socket.path), false);
    } finally {
      for (const f of [fd, r, w]) closeSync(f);
    }
  });

  it("rejects with EBADMSG when the peer connects and goes away without sending", async () => {
    const socket = new ConsoleSocket(socketPath());
    peer(socket.path);
    await assert.rejects(socket.receive(AbortSignal.timeout(5000)), { code: "EBADMSG" });
    assert.equal(existsSync(socket.path), false);
  });

  it("rejects with the signal's reason when nobody connects in time", async () => {
    const socket = new ConsoleSocket(socketPath());
    await assert.rejects(socket.receive(AbortSignal.timeout(20)), { name: "TimeoutError" });
    assert.equal(existsSync(socket.path), false);
  });

  it("review #4: waiting consoles take no thread of libuv's pool: fs calls stay fast", async () => {
    const stop = new AbortController();
    const waits = Array.from({ length: 8 }, () => new ConsoleSocket(socketPath()).receive(stop.signal));
    try {
      const t0 = performance.now();
      for (let i = 0; i < 8; i++) await stat(dir);
      const took = performance.now() - t0;
      assert.ok(took < 1000, `8 stat calls took ${took.toFixed(0)} ms while 8 consoles waited`);
    } finally {
      stop.abort(new Error("done"));
      await Promise.allSettled(waits);
    }
  });
});
