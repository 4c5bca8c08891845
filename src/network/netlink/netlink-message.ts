import { getSystemErrorMap } from "node:util";
import { AgentError, Code, codeFromErrno } from "../../errors.js";

/** nlmsghdr: length, type, flags, sequence number, port (linux/netlink.h). */
export const HEADER_BYTES = 16;

export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_DUMP = 0x300;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
/** In an NLMSG_ERROR's flags: the request is not echoed in full / extended-ack attributes follow. */
const NLM_F_CAPPED = 0x100;
const NLM_F_ACK_TLVS = 0x200;
const NLMSGERR_ATTR_MSG = 1;

/** An attribute's type bits; the top two are the nested and byte-order flags. */
const ATTRIBUTE_TYPE_MASK = 0x3fff;

/** The bytes a netlink datagram does not make sense as: truncated, overlong or inconsistent lengths. */
export class NetlinkDecodeError extends AgentError {
  override name = "NetlinkDecodeError";

  constructor(message: string) {
    super(Code.INTERNAL, `malformed netlink message: ${message}`);
  }
}

export const align4 = (n: number) => (n + 3) & ~3;

export interface NetlinkMessage {
  type: number;
  flags: number;
  seq: number;
  port: number;
  /** What follows the header, a view into the datagram. */
  payload: Buffer;
}

/** The messages of one datagram, in order; each payload is a view into `datagram`. */
export function splitMessages(datagram: Buffer): NetlinkMessage[] {
  const messages: NetlinkMessage[] = [];
  let offset = 0;
  while (offset < datagram.length) {
    if (datagram.length - offset < HEADER_BYTES) {
      throw new NetlinkDecodeError(`${datagram.length - offset} bytes left, fewer than a header`);
    }
    const length = datagram.readUInt32LE(offset);
    if (length < HEADER_BYTES || length > datagram.length - offset) {
      throw new NetlinkDecodeError(`a message claims ${length} bytes, ${datagram.length - offset} are left`);
    }
    messages.push({
      type: datagram.readUInt16LE(offset + 4),
      flags: datagram.readUInt16LE(offset + 6),
      seq: datagram.readUInt32LE(offset + 8),
      port: datagram.readUInt32LE(offset + 12),
      payload: datagram.subarray(offset + HEADER_BYTES, offset + length),
    });
    offset += Math.min(align4(length), datagram.length - offset);
  }
  return messages;
}

/** A request's attribute: bytes, or nested attributes (the nested flag is the caller's to set in `type`). */
export interface Attribute {
  type: number;
  value: Uint8Array | readonly Attribute[];
}

function attributeBytes(attribute: Attribute): number {
  const { value } = attribute;
  const body = value instanceof Uint8Array ? value.length : value.reduce((n, a) => n + attributeBytes(a), 0);
  return align4(4 + body);
}

function writeAttribute(target: Buffer, offset: number, attribute: Attribute): number {
  const length = attributeBytes(attribute);
  const { value } = attribute;
  const body = value instanceof Uint8Array ? 4 + value.length : length;
  target.writeUInt16LE(body, offset);
  target.writeUInt16LE(attribute.type, offset + 2);
  if (value instanceof Uint8Array) {
    target.set(value, offset + 4);
    target.fill(0, offset + 4 + value.length, offset + length);
  } else {
    let at = offset + 4;
    for (const nested of value) at = writeAttribute(target, at, nested);
  }
  return offset + length;
}

export interface RequestHeader {
  type: number;
  flags: number;
  seq: number;
}

/** One request message: the header, the family's fixed struct (`fixed`, 4-aligned), then attributes. */
export function encodeMessage(
  header: RequestHeader,
  fixed: Uint8Array,
  attributes: readonly Attribute[] = [],
): Buffer {
  const length = HEADER_BYTES + align4(fixed.length) + attributes.reduce((n, a) => n + attributeBytes(a), 0);
  const out = Buffer.alloc(length);
  out.writeUInt32LE(length, 0);
  out.writeUInt16LE(header.type, 4);
  out.writeUInt16LE(header.flags, 6);
  out.writeUInt32LE(header.seq >>> 0, 8);
  out.set(fixed, HEADER_BYTES);
  let offset = HEADER_BYTES + align4(fixed.length);
  for (const attribute of attributes) offset = writeAttribute(out, offset, attribute);
  return out;
}

/**
 * The attributes in `bytes` from `offset`, by type (flags stripped; the first of a repeated type wins).
 * Values are views into `bytes`.
 */
export function parseAttributes(bytes: Buffer, offset = 0): Map<number, Buffer> {
  const attributes = new Map<number, Buffer>();
  let at = offset;
  while (bytes.length - at >= 4) {
    const length = bytes.readUInt16LE(at);
    if (length < 4 || length > bytes.length - at) {
      throw new NetlinkDecodeError(`an attribute claims ${length} bytes, ${bytes.length - at} are left`);
    }
    const type = bytes.readUInt16LE(at + 2) & ATTRIBUTE_TYPE_MASK;
    if (!attributes.has(type)) attributes.set(type, bytes.subarray(at + 4, at + length));
    at += align4(length);
  }
  return attributes;
}

/** The fixed struct at the start of a payload, checked for its size. */
export function fixedPart(payload: Buffer, bytes: number, what: string): Buffer {
  if (payload.length < bytes) {
    throw new NetlinkDecodeError(`${what} needs ${bytes} bytes, the message has ${payload.length}`);
  }
  return payload.subarray(0, bytes);
}

export const u8 = (value: number) => Uint8Array.of(value & 0xff);

export function u32(value: number): Uint8Array {
  const out = Buffer.alloc(4);
  out.writeUInt32LE(value >>> 0);
  return out;
}

/** A NUL-terminated string attribute's value. */
export const cString = (text: string) => Buffer.from(`${text}\0`, "utf8");

export function readU32(value: Buffer | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (value.length < 4) throw new NetlinkDecodeError(`${what} has ${value.length} bytes, not 4`);
  return value.readUInt32LE(0);
}

export function readU8(value: Buffer | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (value.length < 1) throw new NetlinkDecodeError(`${what} is empty`);
  return value.readUInt8(0);
}

/** A string attribute, up to its first NUL. */
export function readString(value: Buffer | undefined): string | undefined {
  if (value === undefined) return undefined;
  const end = value.indexOf(0);
  return value.toString("utf8", 0, end < 0 ? value.length : end);
}

const errorMap = getSystemErrorMap();

/** The kernel refused a request: its errno (as Node names it) and, when it said why, its words. */
export class NetlinkError extends AgentError {
  override name = "NetlinkError";
  readonly errno: string;
  readonly errnoNumber: number;
  readonly kernelMessage: string | undefined;

  constructor(errnoNumber: number, kernelMessage: string | undefined) {
    const [name, description] = errorMap.get(-errnoNumber) ?? [`errno ${errnoNumber}`, "unknown error"];
    const text = kernelMessage ? `${kernelMessage} (${name})` : `${description} (${name})`;
    super(codeFromErrno(name), text);
    this.errno = name;
    this.errnoNumber = errnoNumber;
    this.kernelMessage = kernelMessage;
  }
}

/**
 * The status an NLMSG_ERROR (or a dump's NLMSG_DONE) carries: undefined for an ack (error 0), a NetlinkError
 * otherwise, with the kernel's extended-ack text when it sent one.
 */
export function statusOf(message: NetlinkMessage): NetlinkError | undefined {
  const { payload } = message;
  if (payload.length < 4) {
    if (message.type === NLMSG_DONE) return undefined;
    throw new NetlinkDecodeError(`an error message of ${payload.length} bytes`);
  }
  const error = -payload.readInt32LE(0);
  if (error === 0) return undefined;
  let kernelMessage: string | undefined;
  if (message.type === NLMSG_ERROR && message.flags & NLM_F_ACK_TLVS && payload.length >= 4 + HEADER_BYTES) {
    const echoed = payload.readUInt32LE(4);
    const skip = message.flags & NLM_F_CAPPED ? HEADER_BYTES : echoed;
    if (skip >= HEADER_BYTES && skip <= payload.length - 4) {
      kernelMessage = readString(parseAttributes(payload, 4 + align4(skip)).get(NLMSGERR_ATTR_MSG));
    }
  }
  return new NetlinkError(error, kernelMessage || undefined);
}
