import { type DestinationStream, type Level, type Logger as PinoLogger, pino } from "pino";

export type Logger = PinoLogger;
export type LogLevel = Level;

export interface LoggerOptions {
  level?: LogLevel | "silent";
  /** Where lines go (default: stdout). */
  destination?: DestinationStream;
}

/** A JSON-lines logger with Kata's field names: `msg`, `level`, `ts`, `pid`, `name`, `source`. */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? "info",
      base: { pid: process.pid, name: "berth-agent", source: "agent" },
      messageKey: "msg",
      timestamp: () => `,"ts":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
