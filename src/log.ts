import { type DestinationStream, type Level, type Logger as PinoLogger, pino } from "pino";
import { AgentError, codeName } from "./errors.js";
import { AGENT_VERSION } from "./version.js";

export type Logger = PinoLogger;
export type LogLevel = Level;

export interface LoggerOptions {
  level?: LogLevel | "silent";
  /** Where lines go (default: stdout). */
  destination?: DestinationStream;
}

type SerializedError = Record<string, unknown> & { cause?: unknown };

/**
 * pino's errWithCause keeps the chain as nested `cause` objects, each with its own message and stack. On top
 * of it: an AgentError's code by name (`NOT_FOUND`, not 5), and a cause that is not an Error kept as text.
 */
function serializeError(error: unknown): unknown {
  const serialized: unknown = pino.stdSerializers.errWithCause(error as Error);
  let source: unknown = error;
  let target = serialized as SerializedError;
  for (let depth = 0; source instanceof Error && typeof target === "object" && depth < 32; depth++) {
    if (source instanceof AgentError) target.code = codeName(source.code);
    const cause: unknown = source.cause;
    if (cause !== undefined && !(cause instanceof Error) && target.cause === undefined) {
      target.cause = String(cause);
    }
    source = cause;
    target = target.cause as SerializedError;
  }
  return serialized;
}

/**
 * A JSON-lines logger with the fields of Kata's agent: `msg`, `level`, `ts`, `pid`, `name`, `source`,
 * `version`, and `subsystem` on child loggers (`log.child({ subsystem: "rpc" })`). Errors go under `err`.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? "info",
      base: { pid: process.pid, name: "berth-agent", source: "agent", version: AGENT_VERSION },
      messageKey: "msg",
      timestamp: () => `,"ts":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: serializeError },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
