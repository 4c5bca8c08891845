import { FrameType, HEADER_LENGTH, MAGIC, MAX_DATA, RECORD_LENGTH, SyncKind } from "./wire.js";

/** What the parser found, in the order the bytes came. */
export interface ParserSink {
  open(stream: number): void;
  /** A piece of a DATA payload: a payload may arrive in several pieces. */
  data(stream: number, bytes: Buffer): void;
  credit(stream: number, bytes: number): void;
  close(stream: number): void;
  record(kind: SyncKind, nonce: Buffer): void;
  /** The bytes were no frame; the parser is scanning for a record from here on. */
  invalid(reason: string): void;
}

const EMPTY = Buffer.alloc(0);
/** Zeros where a frame would start are padding (see PAD). */
const PADDING = 0;
const RECORD_KINDS = new Set<number>([SyncKind.SYNC, SyncKind.ACK, SyncKind.REQUEST]);

/**
 * Splits the byte stream into frames and records. Scanning, it skips everything up to the next record
 * (MAGIC and a known kind); framing, it reads frames back to back, skips zeros between them (padding), and
 * takes a record where a frame starts. The
 * sink switches it with scan() and frame(), also from inside its callbacks. It keeps at most a record's
 * or a header's worth of bytes between pushes: DATA is handed on as it comes.
 */
export class MuxParser {
  readonly #sink: ParserSink;
  #scanning = true;
  #pending = EMPTY;
  #dataStream = 0;
  #dataLeft = 0;

  constructor(sink: ParserSink) {
    this.#sink = sink;
  }

  get scanning(): boolean {
    return this.#scanning;
  }

  scan(): void {
    this.#scanning = true;
    this.#dataLeft = 0;
  }

  frame(): void {
    this.#scanning = false;
    this.#dataLeft = 0;
  }

  push(chunk: Buffer): void {
    const buf = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    this.#pending = EMPTY;
    let at = 0;
    while (at < buf.length) {
      const next = this.#scanning ? this.#scanAt(buf, at) : this.#frameAt(buf, at);
      if (next < 0) {
        // -1 - position: keep what is left from there for the next push.
        this.#pending = Buffer.from(buf.subarray(-1 - next));
        return;
      }
      at = next;
    }
  }

  #scanAt(buf: Buffer, at: number): number {
    const found = buf.indexOf(MAGIC, at);
    if (found < 0) {
      const keep = Math.max(at, buf.length - (MAGIC.length - 1));
      return keep < buf.length ? -1 - keep : buf.length;
    }
    if (buf.length - found < RECORD_LENGTH) return -1 - found;
    const kind = buf[found + MAGIC.length] as number;
    if (!RECORD_KINDS.has(kind)) return found + 1;
    this.#sink.record(kind, Buffer.from(buf.subarray(found + MAGIC.length + 1, found + RECORD_LENGTH)));
    return found + RECORD_LENGTH;
  }

  #frameAt(buf: Buffer, at: number): number {
    const left = buf.length - at;
    if (this.#dataLeft > 0) {
      const n = Math.min(this.#dataLeft, left);
      this.#dataLeft -= n;
      this.#sink.data(this.#dataStream, buf.subarray(at, at + n));
      return at + n;
    }
    if (buf[at] === PADDING) {
      let end = at + 1;
      while (end < buf.length && buf[end] === PADDING) end++;
      return end;
    }
    if (buf[at] === MAGIC[0]) {
      if (left < RECORD_LENGTH) return -1 - at;
      const kind = buf[at + MAGIC.length] as number;
      if (!buf.subarray(at, at + MAGIC.length).equals(MAGIC) || !RECORD_KINDS.has(kind)) {
        return this.#invalid(at, "a record with a bad magic or kind");
      }
      this.#sink.record(kind, Buffer.from(buf.subarray(at + MAGIC.length + 1, at + RECORD_LENGTH)));
      return at + RECORD_LENGTH;
    }
    if (left < HEADER_LENGTH) return -1 - at;
    const type = buf.readUInt8(at);
    const stream = buf.readUInt32BE(at + 1);
    const length = buf.readUInt32BE(at + 5);
    const body = at + HEADER_LENGTH;
    if (stream === 0) return this.#invalid(at, `a frame of type ${type} on stream 0`);
    switch (type) {
      case FrameType.OPEN:
      case FrameType.CLOSE:
        if (length !== 0)
          return this.#invalid(at, `an ${FrameType[type]} frame with ${length} payload bytes`);
        if (type === FrameType.OPEN) this.#sink.open(stream);
        else this.#sink.close(stream);
        return body;
      case FrameType.DATA:
        if (length === 0 || length > MAX_DATA) return this.#invalid(at, `a DATA frame of ${length} bytes`);
        this.#dataStream = stream;
        this.#dataLeft = length;
        return body;
      case FrameType.CREDIT:
        if (length !== 4) return this.#invalid(at, `a CREDIT frame with ${length} payload bytes`);
        if (left < HEADER_LENGTH + 4) return -1 - at;
        this.#sink.credit(stream, buf.readUInt32BE(body));
        return body + 4;
      default:
        return this.#invalid(at, `an unknown frame type ${type}`);
    }
  }

  #invalid(at: number, reason: string): number {
    this.scan();
    this.#sink.invalid(reason);
    return at;
  }
}
