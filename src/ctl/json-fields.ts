import { CtlError } from "./ctl-error.js";
import type { ExactJson } from "./exact-json.js";

type JsonRecord = { [key: string]: ExactJson };

const U32_MAX = 0xffff_ffffn;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const U64_MAX = 2n ** 64n - 1n;

/** What was read from where, shared by every reader of one document: unread members are reported. */
interface Document {
  name: string;
  unread: Set<string>;
}

/**
 * Typed, checked reads of one JSON object's members. An absent or null member reads as the protobuf
 * zero value; a member of the wrong type fails naming its path ("config.json: process.args[1] must
 * be a string"). Every member never read is listed by {@link unreadMembers}.
 */
export class JsonFields {
  readonly #doc: Document;
  readonly #record: JsonRecord;
  readonly path: string;

  private constructor(doc: Document, record: JsonRecord, path: string) {
    this.#doc = doc;
    this.#record = record;
    this.path = path;
    for (const key of Object.keys(record)) doc.unread.add(this.#at(key));
  }

  /** Reads `value`, the whole document called `name` (for messages), which must be an object. */
  static document(value: ExactJson, name: string): JsonFields {
    const doc = { name, unread: new Set<string>() };
    if (!isRecord(value)) throw new CtlError(`${name}: must be a JSON object, not ${typeOf(value)}`);
    return new JsonFields(doc, value, "");
  }

  /** Members of the whole document never read, by path ("linux.personality"), sorted. */
  unreadMembers(): string[] {
    return [...this.#doc.unread].sort();
  }

  /** Whether the member is present and not null; an absent or null one counts as read. */
  has(key: string): boolean {
    const present = Object.hasOwn(this.#record, key) && this.#record[key] !== null;
    if (!present) this.#doc.unread.delete(this.#at(key));
    return present;
  }

  string(key: string): string {
    return this.#read(key, "a string", (v) => (typeof v === "string" ? v : undefined)) ?? "";
  }

  bool(key: string): boolean {
    return this.#read(key, "true or false", (v) => (typeof v === "boolean" ? v : undefined)) ?? false;
  }

  uint32(key: string): number {
    return Number(this.#int(key, "an integer in 0..4294967295", 0n, U32_MAX) ?? 0n);
  }

  int64(key: string, absent = 0n): bigint {
    return this.#int(key, "a 64-bit integer", I64_MIN, I64_MAX) ?? absent;
  }

  /** A uint64; a negative value (Kata's -1 for "unlimited") is taken as its two's complement. */
  uint64(key: string): bigint {
    return BigInt.asUintN(64, this.#int(key, "a 64-bit integer", I64_MIN, U64_MAX) ?? 0n);
  }

  strings(key: string): string[] {
    return this.#list(key, (v, at) => (typeof v === "string" ? v : this.#fail(at, "a string", v)));
  }

  uint32s(key: string): number[] {
    return this.#list(key, (v, at) => {
      const n = toInteger(v);
      return n !== undefined && n >= 0n && n <= U32_MAX ? Number(n) : this.#fail(at, "a uint32", v);
    });
  }

  object(key: string): JsonFields | undefined {
    const value = this.#take(key);
    if (value === undefined) return undefined;
    if (!isRecord(value)) return this.#fail(this.#at(key), "an object", value);
    return new JsonFields(this.#doc, value, this.#at(key));
  }

  objects(key: string): JsonFields[] {
    return this.#list(key, (v, at) =>
      isRecord(v) ? new JsonFields(this.#doc, v, at) : this.#fail(at, "an object", v),
    );
  }

  /** An object of string values (annotations, sysctls). */
  stringMap(key: string): Record<string, string> {
    const value = this.#take(key);
    if (value === undefined) return {};
    if (!isRecord(value)) return this.#fail(this.#at(key), "an object of strings", value);
    for (const [k, v] of Object.entries(value))
      if (typeof v !== "string") this.#fail(`${this.#at(key)}.${k}`, "a string", v);
    return { ...(value as Record<string, string>) };
  }

  #at(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  #take(key: string): ExactJson | undefined {
    this.#doc.unread.delete(this.#at(key));
    const value = Object.hasOwn(this.#record, key) ? this.#record[key] : undefined;
    return value === null ? undefined : value;
  }

  #read<T>(key: string, what: string, as: (v: ExactJson) => T | undefined): T | undefined {
    const value = this.#take(key);
    if (value === undefined) return undefined;
    return as(value) ?? this.#fail(this.#at(key), what, value);
  }

  #int(key: string, what: string, min: bigint, max: bigint): bigint | undefined {
    return this.#read(key, what, (v) => {
      const n = toInteger(v);
      return n !== undefined && n >= min && n <= max ? n : undefined;
    });
  }

  #list<T>(key: string, item: (v: ExactJson, at: string) => T): T[] {
    const value = this.#take(key);
    if (value === undefined) return [];
    if (!Array.isArray(value)) return this.#fail(this.#at(key), "an array", value);
    return value.map((v, i) => item(v, `${this.#at(key)}[${i}]`));
  }

  #fail(at: string, what: string, value: ExactJson): never {
    throw new CtlError(`${this.#doc.name}: ${at} must be ${what}, not ${typeOf(value)}`);
  }
}

function isRecord(value: ExactJson | undefined): value is JsonRecord {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function toInteger(value: ExactJson): bigint | undefined {
  if (typeof value === "bigint") return value;
  return typeof value === "number" && Number.isInteger(value) ? BigInt(value) : undefined;
}

function typeOf(value: ExactJson): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "bigint") return value.toString();
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 36)}..."` : text;
}
