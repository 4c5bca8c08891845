import type { Message } from "@bufbuild/protobuf";
import { AgentError, Code, codeName } from "../errors.js";
import type { Logger } from "../log.js";
import { type Interceptor, isPromise } from "./router.js";

const SERVER_FAULTS = new Set<Code>([Code.INTERNAL, Code.UNKNOWN, Code.DATA_LOSS]);

/**
 * One log line per call: at debug level with its duration when it succeeds; when it fails, at error level
 * with the cause for faults of berth's own, at info level for the caller's mistakes.
 *
 * Only the method's path outlives the start of the call here: a call that blocks for hours (WaitProcess,
 * ReadStdout) must not keep its request alive through its log line.
 */
export function loggingInterceptor(log: Logger): Interceptor {
  const rpcLog = log.child({ subsystem: "rpc" });
  const succeeded = (method: string, start: number) => {
    if (rpcLog.isLevelEnabled("debug")) {
      rpcLog.debug({ method, duration_ms: performance.now() - start }, "rpc ok");
    }
  };
  const failed = (method: string, start: number, error: unknown): AgentError => {
    const e = AgentError.from(error);
    const fields = {
      method,
      duration_ms: performance.now() - start,
      code: codeName(e.code),
      error: e.message,
    };
    if (SERVER_FAULTS.has(e.code)) rpcLog.error({ ...fields, err: e.cause ?? e }, "rpc failed");
    else rpcLog.info(fields, "rpc failed");
    return e;
  };
  async function logged(method: string, start: number, reply: Promise<Message>): Promise<Message> {
    try {
      const result = await reply;
      succeeded(method, start);
      return result;
    } catch (error) {
      throw failed(method, start, error);
    }
  }
  return (next) => (call) => {
    const start = performance.now();
    let reply: Message | Promise<Message>;
    try {
      reply = next(call);
    } catch (error) {
      return Promise.reject(failed(call.context.path, start, error));
    }
    if (isPromise(reply)) return logged(call.context.path, start, reply);
    succeeded(call.context.path, start);
    return reply;
  };
}
