/**
 * The slice of the protobuf wire format the ttrpc envelope needs: varints, length-delimited fields and
 * skipping unknown fields. Kept here so the ttrpc module has no dependencies; messages.test.ts checks it
 * against protobuf-es.
 */

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

export class WireError extends Error {
  override name = "WireError";
}

/** Reads fields from a protobuf message held in `buf`. */
export class WireReader {
  pos = 0;
  readonly #buf: Buffer;

  constructor(buf: Buffer) {
    this.#buf = buf;
  }

  get done(): boolean {
    return this.pos >= this.#buf.length;
  }

  /** The next tag as field number × 8 + wire type. */
  tag(): number {
    const tag = this.uint32();
    if (tag >>> 3 === 0) throw new WireError(`invalid field number 0 at offset ${this.pos}`);
    return tag;
  }

  /** A varint, truncated to its low 32 bits (as protobuf does for 32-bit fields). */
  uint32(): number {
    const [lo] = this.varint64();
    return lo;
  }

  /** A varint as its low and high 32-bit halves, both unsigned. */
  varint64(): [number, number] {
    const buf = this.#buf;
    let lo = 0;
    let hi = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (this.pos >= buf.length) throw new WireError("truncated varint");
      const byte = buf[this.pos++] as number;
      const bits = byte & 0x7f;
      if (shift < 28) lo |= bits << shift;
      else if (shift === 28) {
        lo |= (bits & 0x0f) << 28;
        hi = bits >>> 4;
      } else hi |= bits << (shift - 32);
      if (byte < 0x80) return [lo >>> 0, hi >>> 0];
    }
    throw new WireError("varint longer than 10 bytes");
  }

  int64(): bigint {
    const [lo, hi] = this.varint64();
    if (hi === 0) return BigInt(lo);
    return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
  }

  /** A length-delimited field's bytes, as a view of the input. */
  bytes(): Buffer {
    const length = this.uint32();
    const end = this.pos + length;
    if (end > this.#buf.length)
      throw new WireError(`field of ${length} bytes runs past the end of the message`);
    const out = this.#buf.subarray(this.pos, end);
    this.pos = end;
    return out;
  }

  string(): string {
    const length = this.uint32();
    const end = this.pos + length;
    if (end > this.#buf.length)
      throw new WireError(`field of ${length} bytes runs past the end of the message`);
    const out = this.#buf.toString("utf8", this.pos, end);
    this.pos = end;
    return out;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint64();
        return;
      case WIRE_FIXED64:
        this.#advance(8);
        return;
      case WIRE_LEN:
        this.#advance(this.uint32());
        return;
      case WIRE_FIXED32:
        this.#advance(4);
        return;
      default:
        throw new WireError(`unsupported wire type ${wireType}`);
    }
  }

  #advance(n: number) {
    if (this.pos + n > this.#buf.length) throw new WireError("field runs past the end of the message");
    this.pos += n;
  }
}

export function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x20_0000) return 3;
  if (value < 0x1000_0000) return 4;
  return 5;
}

/** Writes an unsigned 32-bit varint at `pos`; returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, value: number): number {
  let v = value >>> 0;
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

/** The two's-complement halves of a signed 64-bit integer. */
export function int64Halves(value: bigint): [number, number] {
  const u = BigInt.asUintN(64, value);
  return [Number(u & 0xffff_ffffn), Number(u >> 32n)];
}

export function varint64Size(lo: number, hi: number): number {
  if (hi === 0) return varintSize(lo);
  let size = 5;
  for (let rest = hi >>> 3; rest > 0; rest >>>= 7) size++;
  return size;
}

export function writeVarint64(buf: Uint8Array, pos: number, lo: number, hi: number): number {
  if (hi === 0) return writeVarint(buf, pos, lo);
  let l = lo >>> 0;
  let h = hi >>> 0;
  for (let i = 0; i < 4; i++) {
    buf[pos++] = (l & 0x7f) | 0x80;
    l >>>= 7;
  }
  let mid = (l & 0x0f) | ((h & 0x07) << 4);
  h >>>= 3;
  buf[pos++] = h > 0 ? mid | 0x80 : mid;
  while (h > 0) {
    mid = h & 0x7f;
    h >>>= 7;
    buf[pos++] = h > 0 ? mid | 0x80 : mid;
  }
  return pos;
}
