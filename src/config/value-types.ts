import type { TomlValueWithoutBigInt } from "smol-toml";
import { AgentError } from "../errors.js";
import type { LogLevel } from "../log.js";
import { formatListenAddress, type ListenAddress, parseListenAddress } from "../transport/address.js";

export type TomlValue = TomlValueWithoutBigInt;
export type JsonScalar = string | number | boolean | null;

/** A value that does not fit its option; the caller prefixes the message with where it came from. */
export class InvalidValue extends Error {
  override name = "InvalidValue";
}

/** How one option's value is read from text (flags, environment, kernel command line) and from TOML. */
export interface ValueType<T> {
  /** What a valid value looks like, for messages and --help ("seconds", "true or false"). */
  readonly expected: string;
  fromText(text: string): T;
  fromToml(value: TomlValue): T;
  /** What a bare kernel command line option (`agent.devmode`, no `=`) means; unset: a value is required. */
  readonly bare?: T;
  /** The value as the announce line and --help show it. */
  show(value: T): JsonScalar;
}

/** Quotes a value given by the user for an error message, whatever its type. */
export function quote(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object" && value !== null) {
    try {
      return JSON.stringify(value);
    } catch {
      return String(value);
    }
  }
  return String(value);
}

function expected(what: string, got: unknown): InvalidValue {
  return new InvalidValue(`expected ${what}, got ${quote(got)}`);
}

function stringFromToml(value: TomlValue, what: string): string {
  if (typeof value !== "string") throw expected(`${what} (a TOML string)`, value);
  return value;
}

const DIGITS = /^\d{1,16}$/;
const SIGNED_DIGITS = /^-?\d{1,16}$/;

/** A whole number within [min, max]. */
export function integer(what: string, min: number, max: number): ValueType<number> {
  const description = `${what} (${min} to ${max})`;
  const checked = (n: number, got: unknown) => {
    if (!Number.isSafeInteger(n) || n < min || n > max) throw expected(description, got);
    return n;
  };
  return {
    expected: description,
    fromText: (text) => {
      if (!(min < 0 ? SIGNED_DIGITS : DIGITS).test(text)) throw expected(description, text);
      return checked(Number(text), text);
    },
    fromToml: (value) => {
      if (typeof value !== "number") throw expected(description, value);
      return checked(value, value);
    },
    show: (n) => n,
  };
}

/** setTimeout's limit: a longer delay fires at once. */
const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/**
 * A timeout given in whole seconds, as Kata takes it, held in milliseconds. In TOML, Kata's agent reads a
 * serde Duration (`{ secs = 3, nanos = 0 }`); berth takes that form as well as a plain number of seconds.
 */
export function seconds(min: number): ValueType<number> {
  const inRange = (secs: number, got: unknown) => {
    if (secs < min) throw expected(`seconds, at least ${min}`, got);
    if (secs > MAX_TIMER_SECONDS) throw expected(`seconds, at most ${MAX_TIMER_SECONDS}`, got);
    return Math.round(secs * 1000);
  };
  return {
    expected: "seconds",
    fromText: (text) => {
      if (!DIGITS.test(text)) throw expected("seconds", text);
      return inRange(Number(text), text);
    },
    fromToml: (value) => {
      if (typeof value === "number" && Number.isInteger(value)) return inRange(value, value);
      if (typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date)) {
        const { secs, nanos = 0, ...rest } = value as Record<string, TomlValue>;
        const whole = (n: unknown) => typeof n === "number" && Number.isInteger(n) && n >= 0;
        if (whole(secs) && whole(nanos) && (nanos as number) < 1e9 && Object.keys(rest).length === 0) {
          return inRange((secs as number) + (nanos as number) / 1e9, value);
        }
      }
      throw expected("seconds (a whole number, or { secs = N, nanos = N })", value);
    },
    show: (ms) => ms / 1000,
  };
}

const TRUE_WORDS = new Set(["true", "yes", "y", "on"]);
const FALSE_WORDS = new Set(["false", "no", "n", "off"]);

/**
 * A boolean. Text takes Kata's forms (`true`/`false`, or a number: 0 is false) and systemd's
 * (`yes`/`no`, `on`/`off`); `alsoTrue` adds words that mean true (Kata 1.x's `agent.trace=isolated`).
 */
export function boolean(alsoTrue: readonly string[] = []): ValueType<boolean> {
  const description = "true or false";
  return {
    expected: description,
    fromText: (text) => {
      const word = text.toLowerCase();
      if (TRUE_WORDS.has(word) || alsoTrue.includes(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      if (DIGITS.test(word)) return Number(word) !== 0;
      throw expected(description, text);
    },
    fromToml: (value) => {
      if (typeof value !== "boolean") throw expected(`${description} (a TOML boolean)`, value);
      return value;
    },
    bare: true,
    show: (b) => b,
  };
}

/** Any string; `nonEmpty` refuses "". */
export function text(what: string, nonEmpty = true): ValueType<string> {
  const check = (s: string) => {
    if (nonEmpty && s.length === 0) throw expected(what, s);
    if (s.includes("\0")) throw expected(`${what} without NUL bytes`, s);
    return s;
  };
  return {
    expected: what,
    fromText: check,
    fromToml: (value) => check(stringFromToml(value, what)),
    show: (s) => s,
  };
}

/** An absolute path without `..`, trailing slashes dropped. */
export const absolutePath: ValueType<string> = (() => {
  const what = 'an absolute path without ".."';
  const check = (s: string) => {
    if (!s.startsWith("/") || s.split("/").includes("..") || s.includes("\0")) throw expected(what, s);
    return s.length > 1 ? s.replace(/\/+$/, "") : s;
  };
  return { expected: what, fromText: check, fromToml: (v) => check(stringFromToml(v, what)), show: (s) => s };
})();

/** A URL, or "" for none (Kata checks `agent.https_proxy` with `Url::parse`). */
export const url: ValueType<string> = (() => {
  const what = "a URL";
  const check = (s: string) => {
    if (s !== "" && !URL.canParse(s)) throw expected(what, s);
    return s;
  };
  return { expected: what, fromText: check, fromToml: (v) => check(stringFromToml(v, what)), show: (s) => s };
})();

/** One of a fixed set of words. */
export function oneOf<const C extends readonly string[]>(choices: C): ValueType<C[number]> {
  const what = choices.length === 2 ? choices.join(" or ") : `one of ${choices.join(", ")}`;
  const check = (s: string): C[number] => {
    const choice = choices.find((c) => c === s);
    if (choice === undefined) throw expected(what, s);
    return choice;
  };
  return { expected: what, fromText: check, fromToml: (v) => check(stringFromToml(v, what)), show: (s) => s };
}

/** Kata's `agent.log` takes logrus level names; slog's critical, logrus' panic and fatal are pino's fatal. */
const LOG_LEVELS: Readonly<Record<string, LogLevel>> = {
  panic: "fatal",
  fatal: "fatal",
  critical: "fatal",
  error: "error",
  warn: "warn",
  warning: "warn",
  info: "info",
  debug: "debug",
  trace: "trace",
};

export const logLevel: ValueType<LogLevel> = (() => {
  const what = `a log level (${Object.keys(LOG_LEVELS).join(", ")})`;
  const check = (s: string): LogLevel => {
    const level = Object.hasOwn(LOG_LEVELS, s.toLowerCase()) ? LOG_LEVELS[s.toLowerCase()] : undefined;
    if (level === undefined) throw expected(what, s);
    return level;
  };
  return { expected: what, fromText: check, fromToml: (v) => check(stringFromToml(v, what)), show: (l) => l };
})();

export const listenAddress: ValueType<ListenAddress> = (() => {
  const what = "an address (vsock://CID:PORT, unix:///PATH or unix://@NAME)";
  const check = (s: string) => {
    try {
      return parseListenAddress(s);
    } catch (error) {
      throw new InvalidValue(error instanceof AgentError ? error.message : String(error));
    }
  };
  return {
    expected: what,
    fromText: check,
    fromToml: (v) => check(stringFromToml(v, what)),
    show: formatListenAddress,
  };
})();
