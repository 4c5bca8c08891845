import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createProtocolDispatcher, type DispatcherOptions } from "./dispatch.js";

describe("createProtocolDispatcher()", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "berth-dispatch-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function serve(options: DispatcherOptions) {
    const handed: { protocol: string; first: string }[] = [];
    const take = (protocol: string) => (socket: Socket) => {
      socket.once("data", (chunk: Buffer) => {
        handed.push({ protocol, first: chunk.toString("latin1") });
        socket.end();
      });
      socket.resume();
    };
    const dispatch = createProtocolDispatcher({ ttrpc: take("ttrpc"), grpc: take("grpc") }, options);
    const path = join(dir, `${handed.length}-${Date.now()}.sock`);
    const server: Server = createServer(dispatch);
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return { path, handed, close: () => new Promise((resolve) => server.close(resolve)) };
  }

  async function send(path: string, bytes: string): Promise<void> {
    const socket = connect(path);
    await once(socket, "connect");
    socket.end(Buffer.from(bytes, "latin1"));
    await once(socket, "close");
  }

  it("hands a connection to the protocol its first byte names, that byte included", async () => {
    const s = await serve({});
    try {
      await send(s.path, "PRI * HTTP/2.0");
      await send(s.path, "\u0000\u0000\u0000\u0001");
      assert.deepEqual(s.handed, [
        { protocol: "grpc", first: "PRI * HTTP/2.0" },
        { protocol: "ttrpc", first: "\u0000\u0000\u0000\u0001" },
      ]);
    } finally {
      await s.close();
    }
  });

  it("hands every connection to the one protocol it is told to serve", async () => {
    const s = await serve({ only: "grpc" });
    try {
      await send(s.path, "\u0000x");
      assert.deepEqual(s.handed, [{ protocol: "grpc", first: "\u0000x" }]);
    } finally {
      await s.close();
    }
  });

  it("review #12: closes a connection that sends nothing before the first-byte timeout", async () => {
    const logged: string[] = [];
    const s = await serve({ firstByteTimeoutMs: 100, log: (message) => logged.push(message) });
    try {
      const idle = connect(s.path);
      await once(idle, "connect");
      const start = Date.now();
      await once(idle, "close");
      assert.ok(Date.now() - start >= 90, `closed after ${Date.now() - start} ms`);
      assert.deepEqual(logged, ["closing a connection that sent nothing for 100 ms"]);
      assert.deepEqual(s.handed, []);
      await send(s.path, "\u0000late");
      assert.equal(s.handed.length, 1);
    } finally {
      await s.close();
    }
  });
});
