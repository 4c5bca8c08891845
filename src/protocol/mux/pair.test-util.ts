import { createPrng } from "../../../test/support/prng.js";
import { type MuxLink, MuxSession, type MuxSessionOptions } from "./session.js";
import type { MuxStream } from "./stream.js";

/**
 * One direction of an in-memory serial line: bytes arrive on a later turn of the loop, cut at random
 * places. `connected` false drops what is written (a host that is away), as the guest's kernel drops what
 * the host wrote before the port was opened.
 */
export class Line implements MuxLink {
  readonly written: Buffer[] = [];
  connected = true;
  #to: ((chunk: Buffer) => void) | undefined;
  readonly #prng;
  #queue: Buffer[] = [];
  #scheduled = false;

  constructor(seed: number) {
    this.#prng = createPrng(seed);
  }

  deliverTo(receive: (chunk: Buffer) => void): void {
    this.#to = receive;
  }

  write(chunks: readonly Buffer[]): void {
    if (!this.connected) return;
    // Kept, not copied, as the serial port keeps what it has not written yet.
    for (const c of chunks) this.#queue.push(c);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  /** Bytes written and not yet delivered. */
  get queued(): number {
    return this.#queue.reduce((n, b) => n + b.length, 0);
  }

  #flush() {
    this.#scheduled = false;
    const all = Buffer.concat(this.#queue);
    this.#queue = [];
    for (let at = 0; at < all.length; ) {
      const n = 1 + this.#prng.int(Math.min(all.length - at, 70_000));
      this.#to?.(all.subarray(at, at + n));
      at += n;
    }
  }
}

export interface Pair {
  host: MuxSession;
  guest: MuxSession;
  toGuest: Line;
  toHost: Line;
  accepted: MuxStream[];
}

/** A host and a guest session joined by two lines, both up. */
export function pair(seed = 1, options: Partial<MuxSessionOptions> = {}): Pair {
  const toGuest = new Line(seed);
  const toHost = new Line(seed + 1);
  const accepted: MuxStream[] = [];
  const host = new MuxSession({ ...options, role: "host", link: toGuest });
  const guest = new MuxSession({
    ...options,
    role: "guest",
    link: toHost,
    onStream: (s) => {
      accepted.push(s);
      options.onStream?.(s);
    },
  });
  toGuest.deliverTo((c) => guest.receive(c));
  toHost.deliverTo((c) => host.receive(c));
  guest.linkUp();
  host.linkUp();
  return { host, guest, toGuest, toHost, accepted };
}

export function echo(stream: MuxStream): void {
  stream.on("data", (chunk: Buffer) => stream.write(chunk));
  stream.on("error", () => {});
}

export function readAll(stream: MuxStream, bytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const got: Buffer[] = [];
    let n = 0;
    const onData = (chunk: Buffer) => {
      got.push(chunk);
      n += chunk.length;
      if (n >= bytes) {
        stream.off("data", onData);
        resolve(Buffer.concat(got));
      }
    };
    stream.on("data", onData);
    stream.once("close", () => reject(new Error(`closed after ${n} of ${bytes} bytes`)));
  });
}

export const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function until(check: () => boolean, what: string, limitMs = 5000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
