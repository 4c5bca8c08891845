import { Duplex } from "node:stream";
import { MAX_DATA } from "./wire.js";

/** What a stream needs of its session. */
export interface StreamOwner {
  sendData(stream: MuxStream, bytes: Buffer): void;
  sendCredit(stream: MuxStream, bytes: number): void;
  /** The stream is done on this side; `tellPeer` unless the peer closed it or the session is gone. */
  released(stream: MuxStream, tellPeer: boolean): void;
}

interface PendingWrite {
  chunk: Buffer;
  at: number;
  done: (error?: Error | null) => void;
}

/** Bytes a stream buffers for its reader before it stops granting credit. */
const READ_HIGH_WATER_MARK = 16 << 10;

/**
 * One connection inside a session, as a Duplex. Writes go out as DATA while the peer's credit lasts, and
 * wait for more (the writer sees backpressure); what arrives is credited back once the reader has taken
 * it, so neither side ever holds more than the window for a stream nobody reads. End and destroy both
 * close the stream for good: the peer's side closes too.
 */
export class MuxStream extends Duplex {
  /** Given when the session opens it; 0 until then (a host stream waiting for the session). */
  id = 0;
  readonly #owner: StreamOwner;
  readonly #window: number;
  #credit: number;
  #write: PendingWrite | undefined;
  /** Taken by the reader, not yet credited back. */
  #taken = 0;
  /** Buffered while the reader is full, credited once it reads again. */
  #held = 0;
  /** Received and not yet credited: the peer may send at most the window beyond what was credited. */
  #owed = 0;
  #gone = false;

  constructor(owner: StreamOwner, window: number) {
    super({ allowHalfOpen: false, readableHighWaterMark: READ_HIGH_WATER_MARK, decodeStrings: true });
    this.#owner = owner;
    this.#window = window;
    this.#credit = window;
  }

  /** @internal The session opened it: writes held until now go out. */
  opened(id: number): void {
    this.id = id;
    this.#pump();
  }

  /** @internal Bytes from the peer; false when they overrun the credit given (the peer broke the protocol). */
  deliver(bytes: Buffer): boolean {
    if (this.#gone) return true;
    this.#owed += bytes.length;
    if (this.#owed > this.#window) return false;
    if (this.push(bytes)) this.#took(bytes.length);
    else this.#held += bytes.length;
    return true;
  }

  /** @internal The peer may send `bytes` more. */
  credited(bytes: number): void {
    this.#credit = Math.min(this.#credit + bytes, this.#window);
    this.#pump();
  }

  /** @internal The peer closed it: what was received is still read to its end. */
  peerClosed(): void {
    if (this.#gone) return;
    this.#gone = true;
    this.#release();
    this.push(null);
  }

  /** @internal The session is gone: so is the stream, at once. */
  lost(): void {
    if (!this.#gone) {
      this.#gone = true;
      this.#release();
    }
    this.destroy();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    if (this.#gone) {
      done();
      return;
    }
    this.#write = { chunk, at: 0, done };
    this.#pump();
  }

  override _read(): void {
    if (this.#held === 0) return;
    const held = this.#held;
    this.#held = 0;
    this.#took(held);
  }

  override _final(done: (error?: Error | null) => void): void {
    done();
    process.nextTick(() => this.destroy());
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    const tellPeer = !this.#gone;
    this.#gone = true;
    this.#release();
    this.#owner.released(this, tellPeer);
    done(error);
  }

  #pump() {
    const write = this.#write;
    if (!write || this.id === 0 || this.#gone) return;
    const { chunk } = write;
    while (write.at < chunk.length && this.#credit > 0) {
      const n = Math.min(this.#credit, MAX_DATA, chunk.length - write.at);
      this.#owner.sendData(this, chunk.subarray(write.at, write.at + n));
      write.at += n;
      this.#credit -= n;
    }
    if (write.at === chunk.length) {
      this.#write = undefined;
      write.done();
    }
  }

  /** Credit goes back in quarters of the window: one CREDIT frame per 64 KiB read, not one per read. */
  #took(bytes: number) {
    this.#taken += bytes;
    if (this.#taken < this.#window / 4 || this.#gone) return;
    const taken = this.#taken;
    this.#taken = 0;
    this.#owed -= taken;
    this.#owner.sendCredit(this, taken);
  }

  /** A write waiting for credit that will never come is finished, so its writer is not left waiting. */
  #release() {
    const write = this.#write;
    this.#write = undefined;
    write?.done();
  }
}
