import { constants } from "node:os";
import { UsageError } from "./ctl-error.js";

const SIGNALS: Readonly<Record<string, number>> = constants.signals;

/** A signal number from "TERM", "SIGTERM", "term" or "15". */
export function parseSignal(text: string): number {
  if (/^\d{1,2}$/.test(text)) {
    const n = Number(text);
    if (n >= 1 && n <= 64) return n;
  }
  const name = text.toUpperCase().replace(/^SIG/, "");
  const n = SIGNALS[`SIG${name}`];
  if (n === undefined) {
    throw new UsageError(
      `unknown signal ${JSON.stringify(text)}: give a name such as TERM, KILL or INT, or a number`,
    );
  }
  return n;
}

/** Signal names without "SIG", for completion. */
export function signalNames(): string[] {
  return Object.keys(SIGNALS)
    .filter((name) => name !== "SIGIOT" && name !== "SIGPOLL" && name !== "SIGUNUSED")
    .map((name) => name.slice(3));
}
