import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { EmptySchema } from "@bufbuild/protobuf/wkt";
import { AgentError, Code } from "../errors.js";
import { collected } from "../gc.test-util.js";
import { capturingLog } from "../log.test-util.js";
import { AgentService, WaitProcessRequestSchema } from "../protocol/gen/agent_pb.js";
import { loggingInterceptor } from "./logging-interceptor.js";
import type { CallNext, RpcCall } from "./router.js";

const method = AgentService.method.waitProcess;

function waitCall(): RpcCall {
  const context = { path: "/grpc.AgentService/WaitProcess", signal: new AbortController().signal };
  return {
    method,
    request: create(WaitProcessRequestSchema, { containerId: "c1", execId: "e1" }),
    context: { ...context, metadata: new Map(), deadline: undefined },
  };
}

describe("loggingInterceptor()", () => {
  it("logs a failed call at info level with its code, and passes the error on", async () => {
    const { log, lines } = capturingLog<{ method: string; code: string; error: string }>();
    const next: CallNext = async () => {
      throw new AgentError(Code.NOT_FOUND, "no process e1");
    };
    await assert.rejects(async () => loggingInterceptor(log)(next)(waitCall()), /no process e1/);
    assert.deepEqual(
      lines.map((l) => [l.level, l.msg, l.method, l.code, l.error]),
      [["info", "rpc failed", "/grpc.AgentService/WaitProcess", "NOT_FOUND", "no process e1"]],
    );
  });

  it("review #7: keeps nothing of a blocked call but its path (the request can be collected)", async () => {
    const { log } = capturingLog();
    let unblock = () => {};
    const blocked = new Promise<void>((resolve) => {
      unblock = resolve;
    });
    const next: CallNext = async () => {
      await blocked;
      return create(EmptySchema);
    };
    const start = () => {
      const call = waitCall();
      return { request: new WeakRef(call.request), reply: loggingInterceptor(log)(next)(call) };
    };
    const { request, reply } = start();
    assert.ok(await collected(request), "the interceptor still holds the request of a call in flight");
    unblock();
    await reply;
  });
});
