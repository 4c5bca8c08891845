/** A JSON value whose integers beyond ±(2^53-1) are exact bigints (RLIM_INFINITY, seccomp masks). */
export type ExactJson =
  | null
  | boolean
  | number
  | bigint
  | string
  | ExactJson[]
  | { [key: string]: ExactJson };

const MAX_DEPTH = 128;
/** A string token; JSON.parse then checks its escapes and refuses raw control characters. */
const STRING = /"(?:[^"\\]|\\.)*"/y;
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const SPACE = /[ \t\n\r]*/y;

/**
 * Parses JSON text like JSON.parse, except that an integer a double cannot hold exactly becomes a
 * bigint. Objects are plain (a "__proto__" key is an own property). Nesting is bounded.
 */
export function parseExactJson(text: string): ExactJson {
  const parser = new Parser(text);
  const value = parser.value(0);
  parser.space();
  if (parser.at < text.length) parser.fail("unexpected text after the value");
  return value;
}

class Parser {
  at = 0;
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  value(depth: number): ExactJson {
    if (depth > MAX_DEPTH) this.fail(`nested deeper than ${MAX_DEPTH} levels`);
    this.space();
    const c = this.#text[this.at];
    if (c === "{") return this.#object(depth);
    if (c === "[") return this.#array(depth);
    if (c === '"') return this.#string();
    for (const [word, value] of [
      ["true", true],
      ["false", false],
      ["null", null],
    ] as const) {
      if (this.#text.startsWith(word, this.at)) {
        this.at += word.length;
        return value;
      }
    }
    return this.#number();
  }

  space(): void {
    SPACE.lastIndex = this.at;
    SPACE.exec(this.#text);
    this.at = SPACE.lastIndex;
  }

  fail(why: string): never {
    const before = this.#text.slice(0, this.at).split("\n");
    const column = (before.at(-1)?.length ?? 0) + 1;
    throw new SyntaxError(`invalid JSON at line ${before.length} column ${column}: ${why}`);
  }

  #object(depth: number): ExactJson {
    const out: { [key: string]: ExactJson } = {};
    this.at++;
    this.space();
    if (this.#eat("}")) return out;
    do {
      this.space();
      if (this.#text[this.at] !== '"') this.fail("expected a member name in double quotes");
      const key = this.#string();
      this.space();
      if (!this.#eat(":")) this.fail("expected ':' after a member name");
      const value = this.value(depth + 1);
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      this.space();
    } while (this.#eat(","));
    if (!this.#eat("}")) this.fail("expected ',' or '}'");
    return out;
  }

  #array(depth: number): ExactJson {
    const out: ExactJson[] = [];
    this.at++;
    this.space();
    if (this.#eat("]")) return out;
    do {
      out.push(this.value(depth + 1));
      this.space();
    } while (this.#eat(","));
    if (!this.#eat("]")) this.fail("expected ',' or ']'");
    return out;
  }

  #string(): string {
    const token = this.#match(STRING);
    if (token === undefined) this.fail("unterminated string");
    try {
      return JSON.parse(token) as string;
    } catch {
      this.at -= token.length;
      return this.fail("invalid string");
    }
  }

  #number(): number | bigint {
    const start = this.at;
    const token = this.#match(NUMBER);
    if (token === undefined)
      this.fail(this.at >= this.#text.length ? "unexpected end" : "unexpected character");
    const n = Number(token);
    const integer = !/[.eE]/.test(token);
    if (integer && !Number.isSafeInteger(n)) return BigInt(token);
    if (!Number.isFinite(n)) {
      this.at = start;
      this.fail(`${token} is out of range`);
    }
    return n;
  }

  #match(pattern: RegExp): string | undefined {
    pattern.lastIndex = this.at;
    const match = pattern.exec(this.#text);
    if (!match) return undefined;
    this.at = pattern.lastIndex;
    return match[0];
  }

  #eat(c: string): boolean {
    if (this.#text[this.at] !== c) return false;
    this.at++;
    return true;
  }
}
