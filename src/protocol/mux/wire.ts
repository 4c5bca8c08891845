/**
 * The bytes of berth's serial session layer (see README.md here). A frame is a 9-byte header, big-endian
 * `type u8 | stream u32 | length u32`, then `length` bytes. A sync record stands outside the framing:
 * MAGIC, a kind byte and a 16-byte nonce; its first byte is no frame type, so a reader that meets it where
 * a frame should start knows it for what it is.
 */

export const HEADER_LENGTH = 9;
/** The largest DATA payload: small enough that a pad of this many zeros ends any frame cut short. */
export const MAX_DATA = 32 << 10;
export const NONCE_LENGTH = 16;
export const MAGIC = Buffer.from([0xff, 0x62, 0x65, 0x72, 0x74, 0x68, 0x6d, 0x78]); // \xff "berthmx"
export const RECORD_LENGTH = MAGIC.length + 1 + NONCE_LENGTH;
/** Zeros sent before a SYNC: whatever frame the other side was in the middle of ends inside them. */
export const PAD = Buffer.alloc(HEADER_LENGTH + MAX_DATA);

export enum FrameType {
  /** host → guest: a new stream (a new ttrpc connection); no payload. */
  OPEN = 1,
  /** Bytes of a stream, 1..MAX_DATA of them. */
  DATA = 2,
  /** The sender may send this many more bytes of the stream (u32 payload). */
  CREDIT = 3,
  /** The stream is gone, both ways; no payload. */
  CLOSE = 4,
}

/** host → guest SYNC, guest → host ACK (the SYNC's nonce), guest → host REQUEST (asks for a SYNC). */
export enum SyncKind {
  SYNC = 0x53,
  ACK = 0x41,
  REQUEST = 0x52,
}

export function encodeHeader(type: FrameType, stream: number, length: number): Buffer {
  const header = Buffer.allocUnsafe(HEADER_LENGTH);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(stream, 1);
  header.writeUInt32BE(length, 5);
  return header;
}

export function encodeCredit(stream: number, bytes: number): Buffer {
  const frame = Buffer.allocUnsafe(HEADER_LENGTH + 4);
  frame.writeUInt8(FrameType.CREDIT, 0);
  frame.writeUInt32BE(stream, 1);
  frame.writeUInt32BE(4, 5);
  frame.writeUInt32BE(bytes, HEADER_LENGTH);
  return frame;
}

export function encodeRecord(kind: SyncKind, nonce: Uint8Array): Buffer {
  if (nonce.length !== NONCE_LENGTH) throw new RangeError(`a nonce is ${NONCE_LENGTH} bytes`);
  const record = Buffer.allocUnsafe(RECORD_LENGTH);
  MAGIC.copy(record, 0);
  record.writeUInt8(kind, MAGIC.length);
  record.set(nonce, MAGIC.length + 1);
  return record;
}
