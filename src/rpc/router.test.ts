import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { AgentError, Code } from "../errors.js";
import { collected } from "../gc.test-util.js";
import { capturingLog } from "../log.test-util.js";
import {
  AgentService,
  type WaitProcessRequest,
  WaitProcessRequestSchema,
  WaitProcessResponseSchema,
} from "../protocol/gen/agent_pb.js";
import type { RawCallContext } from "../protocol/raw-service.js";
import { ByteBudget } from "../sys/byte-budget.js";
import { loggingInterceptor } from "./logging-interceptor.js";
import { DEFAULT_DECODE_LIMITS, routeService } from "./router.js";

const raw: RawCallContext = {
  signal: new AbortController().signal,
  metadata: new Map(),
  deadline: undefined,
};

function waitPayload(padding = 0): Uint8Array {
  const wire = toBinary(
    WaitProcessRequestSchema,
    create(WaitProcessRequestSchema, { containerId: "c1", execId: "e1" }),
  );
  if (padding === 0) return wire;
  const length: number[] = [];
  for (let n = padding; n > 0; n >>>= 7) length.push(n > 0x7f ? (n & 0x7f) | 0x80 : n);
  const out = new Uint8Array(wire.length + 1 + length.length + padding).fill(0x62);
  // field 15, length-delimited: unknown to WaitProcessRequest
  out.set([...wire, 0x7a, ...length]);
  return out;
}

/** Storages of CreateContainerRequest (field 5), each empty: two bytes on the wire, an object once decoded. */
function emptyStorages(count: number): Uint8Array {
  return new Uint8Array(count * 2).map((_, i) => (i % 2 === 0 ? 0x2a : 0));
}

function rejectsWith(code: Code, pattern: RegExp) {
  return (error: unknown) =>
    error instanceof AgentError && error.code === code && pattern.test(error.message);
}

describe("routeService()", () => {
  it("decodes the request, runs the handler and encodes its reply", async () => {
    let seen: WaitProcessRequest | undefined;
    const service = routeService(AgentService, {
      waitProcess: (req) => {
        seen = req;
        return { status: 3 };
      },
    });
    const reply = await service.methods.WaitProcess?.(waitPayload(), raw);
    assert.deepEqual(
      reply,
      toBinary(WaitProcessResponseSchema, create(WaitProcessResponseSchema, { status: 3 })),
    );
    assert.deepEqual([seen?.containerId, seen?.execId], ["c1", "e1"]);
  });

  it("answers in the same turn, bytes and no promise, when the handler and interceptors answer at once", () => {
    const { log } = capturingLog();
    const service = routeService(AgentService, { waitProcess: () => ({ status: 3 }) }, [
      loggingInterceptor(log),
    ]);
    const reply = service.methods.WaitProcess?.(waitPayload(), raw);
    assert.ok(reply instanceof Uint8Array);
    assert.deepEqual(
      reply,
      toBinary(WaitProcessResponseSchema, create(WaitProcessResponseSchema, { status: 3 })),
    );
  });

  it("encodes a reply without fields (google.protobuf.Empty) as no bytes", async () => {
    const service = routeService(AgentService, { removeContainer: () => ({}) });
    const reply = await service.methods.RemoveContainer?.(new Uint8Array(0), raw);
    assert.equal(reply?.length, 0);
  });

  it("answers undecodable requests with INVALID_ARGUMENT and missing handlers with UNIMPLEMENTED", async () => {
    const service = routeService(AgentService, {});
    await assert.rejects(
      async () => service.methods.WaitProcess?.(Uint8Array.of(0x0a, 0x05, 0x61), raw),
      rejectsWith(
        Code.INVALID_ARGUMENT,
        /^cannot decode grpc.WaitProcessRequest for \/grpc.AgentService\/WaitProcess: /,
      ),
    );
    await assert.rejects(
      async () => service.methods.WaitProcess?.(waitPayload(), raw),
      rejectsWith(Code.UNIMPLEMENTED, /\/grpc.AgentService\/WaitProcess is not implemented/),
    );
  });

  it("review #7: drops unknown fields, and keeps neither a blocked call's request nor its bytes alive", async () => {
    let unblock = () => {};
    const blocked = new Promise<void>((resolve) => {
      unblock = resolve;
    });
    let unknown: unknown = "not called";
    const service = routeService(AgentService, {
      waitProcess: (req) => {
        unknown = req.$unknown;
        return blocked.then(() => ({ status: 0 }));
      },
    });
    const start = () => {
      const payload = waitPayload(4 << 20);
      const reply = service.methods.WaitProcess?.(payload, raw);
      return { payload: new WeakRef(payload), reply };
    };
    const { payload, reply } = start();
    assert.equal(unknown, undefined);
    assert.ok(await collected(payload), "the router still holds the bytes of a call in flight");
    unblock();
    await reply;
  });

  it("review #8: refuses the 2-million-storage CreateContainer before decoding it, naming the count", async () => {
    let called = false;
    const service = routeService(AgentService, {
      createContainer: () => {
        called = true;
        return {};
      },
    });
    const count = Math.floor(((4 << 20) - 200) / 2);
    await assert.rejects(
      async () => service.methods.CreateContainer?.(emptyStorages(count), raw),
      rejectsWith(
        Code.RESOURCE_EXHAUSTED,
        new RegExp(
          `^cannot decode grpc.CreateContainerRequest for /grpc.AgentService/CreateContainer: it has more than 100000 fields \\(the limit\\) by byte \\d+ of ${count * 2}$`,
        ),
      ),
    );
    assert.equal(called, false);
  });

  it("charges a request's decoded size to the budget while its call runs, and refuses one that does not fit", async () => {
    const budget = new ByteBudget(1 << 20);
    let unblock = () => {};
    const blocked = new Promise<void>((resolve) => {
      unblock = resolve;
    });
    const service = routeService(AgentService, { createContainer: () => blocked.then(() => ({})) }, [], {
      ...DEFAULT_DECODE_LIMITS,
      budget,
    });
    const running = service.methods.CreateContainer?.(emptyStorages(1000), raw);
    assert.equal(budget.used, 1000 * (32 + 192));
    await assert.rejects(
      async () => service.methods.CreateContainer?.(emptyStorages(5000), raw),
      rejectsWith(
        Code.RESOURCE_EXHAUSTED,
        /^\/grpc.AgentService\/CreateContainer: requests in flight hold 224000 bytes; decoding this grpc.CreateContainerRequest \(5000 fields\) needs about 1120000 more, past the limit of 1048576 bytes$/,
      ),
    );
    unblock();
    await running;
    assert.equal(budget.used, 0);
  });
});
