import { randomBytes } from "node:crypto";
import { MuxParser } from "./parser.js";
import { MuxStream, type StreamOwner } from "./stream.js";
import { encodeCredit, encodeHeader, encodeRecord, FrameType, NONCE_LENGTH, PAD, SyncKind } from "./wire.js";

/** The byte pipe under a session: a serial line, or a socket to one. */
export interface MuxLink {
  /** Queues bytes for the peer, in order. */
  write(chunks: readonly Buffer[]): void;
}

export type MuxLogFn = (level: "debug" | "warn", message: string, fields: Record<string, unknown>) => void;

export interface MuxSessionOptions {
  /** The host opens streams and starts sessions; the guest accepts streams and answers. */
  role: "host" | "guest";
  link: MuxLink;
  /** guest: a stream the host opened (a new connection). */
  onStream?: (stream: MuxStream) => void;
  /** host: a session has begun (the guest acknowledged a SYNC). */
  onSynced?: () => void;
  /** guest: streams open at once; one more is closed as soon as it opens (default 128). */
  maxStreams?: number | undefined;
  /** Bytes a stream may have in flight each way before the reader credits them (default 128 KiB). */
  window?: number | undefined;
  log?: MuxLogFn | undefined;
}

export const DEFAULT_WINDOW = 128 << 10;
export const DEFAULT_MAX_STREAMS = 128;
const MAX_STREAM_ID = 0xffff_ffff;

/**
 * Many connections over one byte pipe that has no connections of its own, and that may hold stale bytes
 * of an earlier session in either direction: a virtio-serial port, whose guest end reads EOF while the
 * host is away and gets, on the next connect, whatever the last host wrote. A session begins when the
 * host sends a SYNC with a fresh nonce, after a pad of zeros that ends any frame the guest was cut off
 * in, and the guest answers ACK with that nonce; each side skips everything before it. The host sends a
 * SYNC when it connects, when the guest asks (REQUEST: the guest opened the port, or the host came back,
 * or the host's bytes made no sense) and when the guest's bytes made no sense. Stream ids only grow within
 * a session, and a new session drops every stream of the last: no byte of one connection ever reaches
 * another.
 */
export class MuxSession {
  readonly #role: "host" | "guest";
  readonly #link: MuxLink;
  readonly #options: MuxSessionOptions;
  readonly #parser: MuxParser;
  readonly #owner: StreamOwner;
  readonly #window: number;
  readonly #maxStreams: number;
  readonly #streams = new Map<number, MuxStream>();
  /** host: streams opened while no session was up, opened when one begins. */
  readonly #waiting = new Set<MuxStream>();
  #synced = false;
  #refusing = false;
  #up = false;
  #closed = false;
  /** host: the nonce of the SYNC awaiting its ACK. */
  #expected: Buffer | undefined;
  /** host: the last id given; guest: the last id opened. */
  #lastId = 0;

  constructor(options: MuxSessionOptions) {
    this.#role = options.role;
    this.#link = options.link;
    this.#options = options;
    this.#window = options.window ?? DEFAULT_WINDOW;
    this.#maxStreams = options.maxStreams ?? DEFAULT_MAX_STREAMS;
    this.#parser = new MuxParser({
      open: (id) => this.#onOpen(id),
      data: (id, bytes) => this.#onData(id, bytes),
      credit: (id, bytes) => this.#streams.get(id)?.credited(bytes),
      close: (id) => this.#onClose(id),
      record: (kind, nonce) => this.#onRecord(kind, nonce),
      invalid: (reason) => this.#lostSync(reason),
    });
    this.#owner = {
      // The link may write later, and the stream tells its writer it is done with the chunk once it is
      // handed on: the bytes are copied, so the writer may reuse its buffer (ReadStdout's are reused).
      sendData: (stream, bytes) =>
        this.#link.write([Buffer.concat([encodeHeader(FrameType.DATA, stream.id, bytes.length), bytes])]),
      sendCredit: (stream, bytes) => {
        if (this.#streams.get(stream.id) === stream) this.#link.write([encodeCredit(stream.id, bytes)]);
      },
      released: (stream, tellPeer) => this.#released(stream, tellPeer),
    };
  }

  get synced(): boolean {
    return this.#synced;
  }

  /** Streams open in the current session (host: plus those waiting for one). */
  get streamCount(): number {
    return this.#streams.size + this.#waiting.size;
  }

  /** The pipe is (again) connected: the host starts a session, the guest asks for one. */
  linkUp(): void {
    if (this.#closed || this.#up) return;
    this.#up = true;
    if (this.#role === "host") this.#startSync();
    else this.#requestSync();
  }

  /** The pipe is gone: so is the session, and every stream in it. */
  linkDown(): void {
    if (!this.#up) return;
    this.#up = false;
    this.#endSession("the link went down");
    this.#parser.scan();
  }

  receive(chunk: Buffer): void {
    if (!this.#closed) this.#parser.push(chunk);
  }

  /** host: a new stream, opened now or as soon as a session begins. */
  openStream(): MuxStream {
    if (this.#role !== "host") throw new Error("only the host opens streams");
    const stream = new MuxStream(this.#owner, this.#window);
    if (this.#closed) stream.lost();
    else if (this.#synced) this.#open(stream);
    else this.#waiting.add(stream);
    return stream;
  }

  /** guest: streams the host opens from now on are closed at once; those open go on. */
  refuseStreams(): void {
    this.#refusing = true;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#endSession("the session was closed");
    for (const stream of [...this.#waiting]) stream.lost();
  }

  #released(stream: MuxStream, tellPeer: boolean) {
    this.#waiting.delete(stream);
    if (this.#streams.get(stream.id) !== stream) return;
    this.#streams.delete(stream.id);
    if (tellPeer) this.#link.write([encodeHeader(FrameType.CLOSE, stream.id, 0)]);
  }

  #onOpen(id: number) {
    if (this.#role !== "guest") return this.#lostSync("the guest opened a stream");
    if (id <= this.#lastId) return this.#lostSync(`stream ${id} opened after stream ${this.#lastId}`);
    this.#lastId = id;
    if (this.#refusing || this.#streams.size >= this.#maxStreams) {
      if (!this.#refusing)
        this.#log("warn", "refused a stream: too many are open", { open: this.#streams.size });
      this.#link.write([encodeHeader(FrameType.CLOSE, id, 0)]);
      return;
    }
    const stream = new MuxStream(this.#owner, this.#window);
    this.#streams.set(id, stream);
    stream.opened(id);
    this.#options.onStream?.(stream);
  }

  #onData(id: number, bytes: Buffer) {
    const stream = this.#streams.get(id);
    if (!stream || stream.deliver(bytes)) return;
    this.#log("warn", "closed a stream whose peer sent past its credit", { stream: id });
    stream.destroy();
  }

  #onClose(id: number) {
    const stream = this.#streams.get(id);
    if (!stream) return;
    this.#streams.delete(id);
    stream.peerClosed();
  }

  #onRecord(kind: SyncKind, nonce: Buffer) {
    if (this.#role === "guest") {
      if (kind !== SyncKind.SYNC) return;
      this.#endSession("the host began a new session");
      this.#synced = true;
      this.#parser.frame();
      this.#link.write([encodeRecord(SyncKind.ACK, nonce)]);
      return;
    }
    if (kind === SyncKind.REQUEST) {
      this.#endSession("the guest asked for a new session");
      this.#startSync();
    } else if (kind === SyncKind.ACK && !this.#synced && this.#expected?.equals(nonce)) {
      this.#expected = undefined;
      this.#synced = true;
      this.#parser.frame();
      for (const stream of [...this.#waiting]) {
        this.#waiting.delete(stream);
        this.#open(stream);
      }
      this.#options.onSynced?.();
    }
  }

  #lostSync(reason: string) {
    this.#log("warn", "the session lost its framing; starting over", { reason });
    this.#endSession(reason);
    this.#parser.scan();
    if (this.#role === "host") this.#startSync();
    else this.#requestSync();
  }

  #requestSync() {
    if (this.#up) this.#link.write([encodeRecord(SyncKind.REQUEST, randomBytes(NONCE_LENGTH))]);
  }

  #startSync() {
    this.#expected = randomBytes(NONCE_LENGTH);
    this.#synced = false;
    this.#parser.scan();
    this.#link.write([PAD, encodeRecord(SyncKind.SYNC, this.#expected)]);
  }

  #open(stream: MuxStream) {
    if (this.#lastId === MAX_STREAM_ID) {
      this.#waiting.add(stream);
      this.#lostSync("the stream ids ran out");
      return;
    }
    const id = ++this.#lastId;
    this.#streams.set(id, stream);
    this.#link.write([encodeHeader(FrameType.OPEN, id, 0)]);
    stream.opened(id);
  }

  /** Drops the session's streams; stream ids start again from 1 in the next one. */
  #endSession(reason: string) {
    const wasSynced = this.#synced;
    this.#synced = false;
    this.#lastId = 0;
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    for (const stream of streams) stream.lost();
    if (wasSynced) this.#log("debug", "session ended", { reason, streams: streams.length });
  }

  #log(level: "debug" | "warn", message: string, fields: Record<string, unknown>) {
    this.#options.log?.(level, message, { role: this.#role, ...fields });
  }
}
