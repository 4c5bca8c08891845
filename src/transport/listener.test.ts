import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type ListenOptions, listen } from "./listener.js";

function debugLog() {
  const lines: { level: string; msg: string; [key: string]: unknown }[] = [];
  const log: ListenOptions["log"] = (level, msg, fields) => {
    lines.push({ level, msg, ...fields });
  };
  return { log, lines };
}

async function opened(path: string): Promise<Socket> {
  const socket = connect(path);
  socket.on("error", () => {});
  await once(socket, "connect");
  return socket;
}

describe("listen()", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "berth-listen-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("review #12: an ECONNRESET on a socket before its first byte is logged, not thrown", async () => {
    const { log, lines } = debugLog();
    const path = join(dir, "reset.sock");
    const reset = Object.assign(new Error("read ECONNRESET"), {
      code: "ECONNRESET",
      errno: -104,
      syscall: "read",
    });
    const listener = await listen({ kind: "unix", path }, (socket) => socket.destroy(reset), { log });
    try {
      const client = await opened(path);
      await once(client, "close");
      await new Promise((resolve) => setImmediate(resolve));
      assert.ok(lines.some((l) => l.msg === "connection error" && l.error === "read ECONNRESET"));
    } finally {
      await listener.close();
    }
  });

  it("review #12: closes connections beyond the cap at once, with a log line, and serves again once others close", async () => {
    const { log, lines } = debugLog();
    const path = join(dir, "cap.sock");
    const served: Socket[] = [];
    const listener = await listen({ kind: "unix", path }, (socket) => served.push(socket), {
      log,
      maxConnections: 3,
    });
    try {
      const clients = await Promise.all([opened(path), opened(path), opened(path)]);
      for (const c of clients) c.write("x");
      await new Promise((resolve) => setTimeout(resolve, 20));
      const extra = await opened(path);
      await once(extra, "close");
      assert.equal(served.length, 3);
      const refused = lines.filter((l) => l.msg === "refused a connection: too many are open");
      assert.deepEqual(
        refused.map((l) => [l.level, l.open, l.limit]),
        [["warn", 3, 3]],
      );
      clients[0]?.destroy();
      await new Promise((resolve) => setTimeout(resolve, 50));
      const again = await opened(path);
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(served.length, 4);
      for (const s of [...clients, again]) s.destroy();
    } finally {
      for (const s of served) s.destroy();
      await listener.close();
    }
  });

  it("at the cap, makes room by closing the oldest connection that has sent nothing, not one that has", async () => {
    const { log, lines } = debugLog();
    const path = join(dir, "evict.sock");
    const served: Socket[] = [];
    const listener = await listen({ kind: "unix", path }, (socket) => served.push(socket), {
      log,
      maxConnections: 3,
    });
    try {
      const talker = await opened(path);
      talker.write("x");
      await new Promise((resolve) => setTimeout(resolve, 20));
      const idle = [await opened(path), await opened(path)];
      const newcomer = await opened(path);
      await once(idle[0] as Socket, "close");
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(served.length, 4, "the newcomer is served");
      assert.equal(talker.destroyed, false, "a connection that spoke is never the one closed");
      assert.equal(idle[1]?.destroyed, false);
      assert.ok(
        lines.some(
          (l) => l.msg === "closed the oldest connection that has sent nothing, to make room for a new one",
        ),
      );
      for (const s of [talker, ...idle, newcomer]) s.destroy();
    } finally {
      for (const s of served) s.destroy();
      await listener.close();
    }
  });
});
