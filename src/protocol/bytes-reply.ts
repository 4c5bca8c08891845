import { type DescField, type DescMessage, type Message, ScalarType } from "@bufbuild/protobuf";
import { asBytesField, lendHeadroom } from "./ttrpc/index.js";

/**
 * Replies that are one bytes field (ReadStreamResponse: a process's output) and whose bytes were read
 * with room in front: encoded where they lie, their field header written into that room, which the ttrpc
 * server then also fills with the Response and the frame (see ttrpc/headroom.ts). Over gRPC the room is
 * not used and the reply is copied as any other.
 */

/**
 * Lends the `byteOffset` bytes in front of `data` (free in its ArrayBuffer, which nothing else uses);
 * `written` is called if its reply is written out in place.
 */
export const lendFront = <T extends Uint8Array>(data: T, written?: () => void): T =>
  data.length > 0 ? lendHeadroom(data, data.byteOffset, written) : data;

const soleFields = new WeakMap<DescMessage, DescField | null>();

/** The field of a message that has exactly one, a bytes field; null otherwise. */
function soleBytesField(schema: DescMessage): DescField | null {
  let field = soleFields.get(schema);
  if (field === undefined) {
    const [only] = schema.fields;
    field =
      schema.fields.length === 1 && only?.fieldKind === "scalar" && only.scalar === ScalarType.BYTES
        ? only
        : null;
    soleFields.set(schema, field);
  }
  return field;
}

/** `message` encoded in place when it is one bytes field whose value has room in front; undefined otherwise. */
export function encodeInPlace(schema: DescMessage, message: Message): Uint8Array | undefined {
  const field = soleBytesField(schema);
  if (!field) return undefined;
  const value = (message as unknown as Record<string, unknown>)[field.localName];
  if (!(value instanceof Uint8Array) || value.length === 0) return undefined;
  return asBytesField(value, field.number);
}
