import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { connect as connectHttp2 } from "node:http2";
import { createServer, type Server as NetServer, connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  type Client,
  credentials,
  Metadata,
  makeGenericClientConstructor,
  type ServiceError,
} from "@grpc/grpc-js";
import { ByteBudget } from "../../sys/byte-budget.js";
import type { RawHandler } from "../raw-service.js";
import { Code } from "../ttrpc/code.js";
import { createGrpcServer, DEFAULT_MAX_CONCURRENT_STREAMS, type GrpcServer } from "./server.js";

const identity = (b: Buffer) => b;

function unaryClient(path: string): Client {
  const Constructor = makeGenericClientConstructor({}, "raw");
  // The client takes any size, so that only the server's limit applies.
  return new Constructor(`unix://${path}`, credentials.createInsecure(), {
    "grpc.max_receive_message_length": -1,
  });
}

function call(client: Client, method: string, payload: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      `/t.S/${method}`,
      (b: Uint8Array) => Buffer.from(b),
      identity,
      payload,
      new Metadata(),
      { deadline: Date.now() + 10_000 },
      (error: ServiceError | null, reply?: Buffer) =>
        error ? reject(error) : resolve(reply ?? Buffer.alloc(0)),
    );
  });
}

async function failure(promise: Promise<unknown>): Promise<ServiceError> {
  return promise.then(
    () => assert.fail("the call succeeded"),
    (error: ServiceError) => error,
  );
}

describe("createGrpcServer()", () => {
  const requests = new ByteBudget(64 << 10);
  const replies = new ByteBudget(64 << 20);
  let dir: string;
  let path: string;
  let listener: NetServer;
  let grpc: GrpcServer;
  let client: Client;
  let unblock = () => {};

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "berth-grpc-"));
    path = join(dir, "grpc.sock");
    const blocked = new Promise<void>((resolve) => {
      unblock = resolve;
    });
    const methods: Record<string, RawHandler> = {
      Echo: async (payload) => payload,
      Hold: (payload) => blocked.then(() => payload),
      Huge: async () => new Uint8Array((4 << 20) + 1),
      Big: async () => new Uint8Array(1 << 20),
    };
    grpc = createGrpcServer([{ name: "t.S", methods }], {
      statusFromError: (error) => ({ code: Code.UNKNOWN, message: String(error), details: [] }),
      cancelled: new Error("cancelled"),
      requestBudget: requests,
      replyBudget: replies,
      callOverhead: 1000,
    });
    listener = createServer((socket) => grpc.injector.injectConnection(socket));
    await new Promise<void>((resolve) => listener.listen(path, resolve));
    client = unaryClient(path);
  });

  after(async () => {
    client.close();
    grpc.server.forceShutdown();
    await new Promise((resolve) => listener.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it(`review #7: announces max_concurrent_streams ${DEFAULT_MAX_CONCURRENT_STREAMS}`, async () => {
    const session = connectHttp2("http://localhost", { createConnection: () => netConnect(path) });
    try {
      const [settings] = (await new Promise((resolve) =>
        session.once("remoteSettings", (s) => resolve([s])),
      )) as [{ maxConcurrentStreams?: number }];
      assert.equal(settings.maxConcurrentStreams, DEFAULT_MAX_CONCURRENT_STREAMS);
    } finally {
      session.destroy();
    }
  });

  it("review #7: refuses a reply over 4 MiB, as ttrpc does", async () => {
    const error = await failure(call(client, "Huge", new Uint8Array(0)));
    assert.equal(error.code, Code.RESOURCE_EXHAUSTED);
    assert.match(error.details, /Sent message larger than max \(4194310 vs. 4194304\)/);
  });

  it("review #7: refuses a call past the shared request budget, naming the numbers, until calls settle", async () => {
    const held = [call(client, "Hold", new Uint8Array(30_000)), call(client, "Hold", new Uint8Array(30_000))];
    const deadline = Date.now() + 5000;
    while (requests.used < 62_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal(requests.used, 2 * 31_000);
    const error = await failure(call(client, "Echo", new Uint8Array(5000)));
    assert.equal(error.code, Code.RESOURCE_EXHAUSTED);
    assert.match(
      error.details,
      /^requests in flight hold 62000 bytes; this call needs 6000 more, past the limit of 65536 bytes$/,
    );
    unblock();
    await Promise.all(held);
    assert.equal(requests.used, 0);
    assert.equal((await call(client, "Echo", new Uint8Array(5000))).length, 5000);
  });

  it("review #7: charges a reply to the reply budget until grpc-js is done with its stream", async () => {
    const session = connectHttp2("http://localhost", { createConnection: () => netConnect(path) });
    const stream = session.request({
      ":method": "POST",
      ":path": "/t.S/Big",
      "content-type": "application/grpc",
      te: "trailers",
    });
    stream.pause();
    stream.end(Buffer.alloc(5));
    const deadline = Date.now() + 5000;
    while (replies.used === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(replies.used, 1 << 20, "a reply the peer does not read stays charged");
    session.destroy();
    while (replies.used > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal(replies.used, 0);
    assert.equal((await call(client, "Big", new Uint8Array(0))).length, 1 << 20);
  });
});
