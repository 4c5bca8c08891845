import { createLogger, type Logger } from "./log.js";

/** A logger at level info for a test, and the lines it writes, parsed, with the fields the test reads. */
export function capturingLog<Fields extends object = object>(): {
  log: Logger;
  lines: (Fields & { level: string; msg: string })[];
} {
  const lines: (Fields & { level: string; msg: string })[] = [];
  const log = createLogger({
    level: "info",
    destination: { write: (line: string) => lines.push(JSON.parse(line)) },
  });
  return { log, lines };
}
