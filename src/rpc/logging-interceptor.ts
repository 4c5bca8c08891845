import { AgentError, Code, codeName } from "../errors.js";
import type { Logger } from "../log.js";
import type { Interceptor } from "./router.js";

const SERVER_FAULTS = new Set<Code>([Code.INTERNAL, Code.UNKNOWN, Code.DATA_LOSS]);

/**
 * One log line per call: at debug level with its duration when it succeeds; when it fails, at error level
 * with the cause for faults of berth's own, at info level for the caller's mistakes.
 */
export function loggingInterceptor(log: Logger): Interceptor {
  const rpcLog = log.child({ subsystem: "rpc" });
  return (next) => async (call) => {
    const start = performance.now();
    try {
      const reply = await next(call);
      if (rpcLog.isLevelEnabled("debug")) {
        rpcLog.debug({ method: call.context.path, duration_ms: performance.now() - start }, "rpc ok");
      }
      return reply;
    } catch (error) {
      const e = AgentError.from(error);
      const fields = {
        method: call.context.path,
        duration_ms: performance.now() - start,
        code: codeName(e.code),
        error: e.message,
      };
      if (SERVER_FAULTS.has(e.code)) rpcLog.error({ ...fields, err: e.cause ?? e }, "rpc failed");
      else rpcLog.info(fields, "rpc failed");
      throw e;
    }
  };
}
