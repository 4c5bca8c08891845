import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { qmpCommand } from "./qmp.js";

/** A QMP server as QEMU's: greeting, capabilities, then `quit` (answered, closed unless told to hang). */
function fakeQemu(path: string, options: { hangOnQuit: boolean }): Promise<Server> {
  const server = createServer((socket) => {
    socket.write('{"QMP": {"version": {}, "capabilities": []}}\n');
    let buffer = "";
    socket.on("data", (chunk) => {
      buffer += chunk.toString();
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        const { execute } = JSON.parse(buffer.slice(0, nl)) as { execute: string };
        buffer = buffer.slice(nl + 1);
        socket.write('{"event": "SOMETHING", "data": {}}\n');
        if (execute === "nope") socket.write('{"error": {"class": "CommandNotFound", "desc": "no nope"}}\n');
        else socket.write(`{"return": ${execute === "query-status" ? '{"running": true}' : "{}"}}\n`);
        if (execute === "quit" && !options.hangOnQuit) socket.end();
      }
    });
  });
  return new Promise((resolve) => server.listen(path, () => resolve(server)));
}

describe("qmpCommand()", () => {
  let dir: string;
  let closing: Server;
  let hanging: Server;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "berth-qmp-"));
    closing = await fakeQemu(join(dir, "closing.sock"), { hangOnQuit: false });
    hanging = await fakeQemu(join(dir, "hanging.sock"), { hangOnQuit: true });
  });

  after(() => {
    closing.close();
    hanging.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers a command's return, skipping the events between", async () => {
    assert.deepEqual(await qmpCommand(join(dir, "closing.sock"), "query-status"), { running: true });
  });

  it("turns a QMP error into FAILED_PRECONDITION with QEMU's words", async () => {
    await assert.rejects(qmpCommand(join(dir, "closing.sock"), "nope"), /QMP nope: CommandNotFound: no nope/);
  });

  it("waits for QEMU to close the connection after quit", async () => {
    assert.deepEqual(
      await qmpCommand(join(dir, "closing.sock"), "quit", undefined, { untilClosed: true }),
      {},
    );
  });

  it("fails, rather than reporting a close, when QEMU keeps the connection open past the timeout", async () => {
    await assert.rejects(
      qmpCommand(join(dir, "hanging.sock"), "quit", undefined, { untilClosed: true, timeoutMs: 200 }),
      /QEMU did not close the connection in 200 ms/,
    );
  });
});
