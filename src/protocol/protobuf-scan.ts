import { type DescField, type DescMessage, ScalarType } from "@bufbuild/protobuf";
import { AgentError, Code } from "../errors.js";

export interface ScanLimits {
  /** Fields a request may hold in all: nested ones, and each element of a repeated field, packed or not. */
  readonly maxFields: number;
  /** Levels of nesting, the request itself being the first. */
  readonly maxDepth: number;
}

export interface WireCounts {
  /** Fields in all, as `ScanLimits.maxFields` counts them. */
  readonly fields: number;
  /** Nested messages and groups: each becomes an object of its own when decoded. */
  readonly messages: number;
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_START_GROUP = 3;
const WIRE_END_GROUP = 4;
const WIRE_FIXED32 = 5;

/** The schema at one level: a message, a map entry (key 1, value 2), or nothing known (an unknown field). */
type Shape = DescMessage | MapEntry | undefined;

interface MapEntry {
  readonly kind: "map-entry";
  readonly value: DescMessage | undefined;
}

/** Bytes a packed element takes; 0: a varint (one byte below 0x80 ends each). */
const PACKED_WIDTH: Partial<Record<ScalarType, number>> = {
  [ScalarType.DOUBLE]: 8,
  [ScalarType.FIXED64]: 8,
  [ScalarType.SFIXED64]: 8,
  [ScalarType.FLOAT]: 4,
  [ScalarType.FIXED32]: 4,
  [ScalarType.SFIXED32]: 4,
  [ScalarType.INT64]: 0,
  [ScalarType.UINT64]: 0,
  [ScalarType.INT32]: 0,
  [ScalarType.UINT32]: 0,
  [ScalarType.SINT32]: 0,
  [ScalarType.SINT64]: 0,
  [ScalarType.BOOL]: 0,
};

const fieldTables = new WeakMap<DescMessage, ReadonlyMap<number, DescField>>();

function fieldByNumber(desc: DescMessage, no: number): DescField | undefined {
  let table = fieldTables.get(desc);
  if (!table) {
    table = new Map(desc.fields.map((f) => [f.number, f]));
    fieldTables.set(desc, table);
  }
  return table.get(no);
}

const packed = (width: number | undefined) => (width === undefined ? undefined : { packedWidth: width });

/** What a length-delimited occurrence of field `no` holds: a nested level, packed scalars, or opaque bytes. */
function lengthDelimited(shape: Shape, no: number): { nested: Shape } | { packedWidth: number } | undefined {
  if (shape === undefined) return undefined;
  if (shape.kind === "map-entry") return no === 2 && shape.value ? { nested: shape.value } : undefined;
  const field = fieldByNumber(shape, no);
  switch (field?.fieldKind) {
    case "message":
      return { nested: field.message };
    case "map":
      return {
        nested: { kind: "map-entry", value: field.mapKind === "message" ? field.message : undefined },
      };
    case "list":
      if (field.listKind === "message") return { nested: field.message };
      return packed(field.listKind === "enum" ? 0 : PACKED_WIDTH[field.scalar]);
    default:
      return undefined;
  }
}

/** The level a group (wire type 3) of field `no` opens: a delimited-encoded message, or something unknown. */
function groupShape(shape: Shape, no: number): Shape {
  if (shape === undefined || shape.kind === "map-entry") return undefined;
  const field = fieldByNumber(shape, no);
  if (field?.fieldKind === "message" || (field?.fieldKind === "list" && field.listKind === "message")) {
    return field.message;
  }
  return undefined;
}

class WireScanner {
  fields = 0;
  messages = 0;
  #pos = 0;
  readonly #bytes: Uint8Array;
  readonly #maxDepth: number;
  readonly #maxFields: number;

  constructor(bytes: Uint8Array, limits: ScanLimits) {
    this.#bytes = bytes;
    this.#maxDepth = limits.maxDepth;
    this.#maxFields = limits.maxFields;
  }

  /** Walks fields up to `end`, or, inside a group, up to the group's end tag. */
  scan(shape: Shape, end: number, depth: number, group: number | undefined): void {
    if (depth > this.#maxDepth) {
      throw new AgentError(
        Code.INVALID_ARGUMENT,
        `it nests deeper than ${this.#maxDepth} levels (at byte ${this.#pos})`,
      );
    }
    while (this.#pos < end) {
      const at = this.#pos;
      const tag = this.#uint32(end);
      const no = tag >>> 3;
      const wireType = tag & 7;
      if (no === 0) throw malformed(`field number 0 at byte ${at}`);
      if (wireType === WIRE_END_GROUP) {
        if (no === group) return;
        throw malformed(`an end of group ${no} at byte ${at} that no group opened`);
      }
      if (++this.fields > this.#maxFields) this.#tooMany(at);
      switch (wireType) {
        case WIRE_VARINT:
          this.#skipVarint(end);
          break;
        case WIRE_FIXED64:
          this.#skip(8, end, no, at);
          break;
        case WIRE_FIXED32:
          this.#skip(4, end, no, at);
          break;
        case WIRE_LEN: {
          const length = this.#uint32(end);
          const stop = this.#pos + length;
          if (stop > end) throw truncated(no, at, end);
          const content = lengthDelimited(shape, no);
          if (content && "nested" in content) {
            this.messages++;
            this.scan(content.nested, stop, depth + 1, undefined);
          } else if (content) {
            this.fields += this.#packedElements(stop, content.packedWidth);
            if (this.fields > this.#maxFields) this.#tooMany(at);
          }
          this.#pos = stop;
          break;
        }
        case WIRE_START_GROUP:
          this.messages++;
          this.scan(groupShape(shape, no), end, depth + 1, no);
          break;
        default:
          throw malformed(`wire type ${wireType} of field ${no} at byte ${at}`);
      }
    }
    if (group !== undefined) throw malformed(`group ${group} never ends`);
  }

  /** Stops at the first field past the limit: the rest of a 4 MiB bomb is never walked. */
  #tooMany(at: number): never {
    throw new AgentError(
      Code.RESOURCE_EXHAUSTED,
      `it has more than ${this.#maxFields} fields (the limit) by byte ${at} of ${this.#bytes.length}`,
    );
  }

  /** A varint of up to ten bytes, as protobuf-es reads lengths and tags: its low 32 bits. */
  #uint32(end: number): number {
    let value = 0;
    for (let i = 0; i < 10; i++) {
      if (this.#pos >= end) throw malformed(`a varint cut off at byte ${this.#pos}`);
      const byte = this.#bytes[this.#pos++] as number;
      if (i < 4) value |= (byte & 0x7f) << (7 * i);
      else if (i === 4) value = (value >>> 0) + (byte & 0x0f) * 2 ** 28;
      if (byte < 0x80) return value >>> 0;
    }
    throw malformed(`a varint longer than 10 bytes ending at byte ${this.#pos}`);
  }

  #skipVarint(end: number) {
    const start = this.#pos;
    while (this.#pos < end && this.#pos - start < 10) {
      if ((this.#bytes[this.#pos++] as number) < 0x80) return;
    }
    throw malformed(`a varint cut off or longer than 10 bytes at byte ${start}`);
  }

  #skip(bytes: number, end: number, no: number, at: number) {
    if (this.#pos + bytes > end) throw truncated(no, at, end);
    this.#pos += bytes;
  }

  #packedElements(stop: number, width: number): number {
    if (width > 0) return Math.floor((stop - this.#pos) / width);
    let count = 0;
    for (let i = this.#pos; i < stop; i++) if ((this.#bytes[i] as number) < 0x80) count++;
    return count;
  }
}

function malformed(what: string): AgentError {
  return new AgentError(Code.INVALID_ARGUMENT, `malformed protobuf: ${what}`);
}

function truncated(no: number, at: number, end: number): AgentError {
  return malformed(`field ${no} at byte ${at} runs past the end of its message (byte ${end})`);
}

/**
 * Counts what decoding `bytes` as `desc` would build, without building it: one pass over the wire bytes,
 * following the schema into nested messages (map values and groups too), allocating nothing. Decoding
 * costs about 200 bytes of heap per message and 10 to 60 per other field, so a 4 MiB request of
 * 2 million empty nested messages would take some 400 MiB and a second of the event loop; this refuses
 * it first. A request with more than `maxFields` fields is RESOURCE_EXHAUSTED; one nested deeper than
 * `maxDepth`, or not protobuf at all, is INVALID_ARGUMENT.
 */
export function scanMessage(desc: DescMessage, bytes: Uint8Array, limits: ScanLimits): WireCounts {
  const scanner = new WireScanner(bytes, limits);
  scanner.scan(desc, bytes.length, 1, undefined);
  return { fields: scanner.fields, messages: scanner.messages };
}
