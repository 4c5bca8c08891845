/**
 * A count of bytes shared by every connection, and by whatever else the program lets hold bytes for its
 * peers, with a limit: what a TtrpcServer needs of one. `charge` counts bytes (possibly past the limit:
 * they are in hand) and returns the function that gives them back; calling it again does nothing.
 */
export interface ByteBudgetLike {
  readonly limit: number;
  readonly used: number;
  readonly available: number;
  charge(bytes: number): () => void;
}

/** Why a call that needs `cost` more bytes of `budget` is refused (RESOURCE_EXHAUSTED), for ttrpc and gRPC alike. */
export function overBudget(budget: ByteBudgetLike, cost: number): string {
  return `requests in flight hold ${budget.used} bytes; this call needs ${cost} more, past the limit of ${budget.limit} bytes`;
}

export interface OutboxOptions {
  /** Charged with every frame from the moment it is queued until the socket has taken it. */
  budget?: ByteBudgetLike | undefined;
  /** Called each time a write has been taken by the socket (or given up, once the outbox is closed). */
  onWritten?: () => void;
}

/**
 * Frames queued during one tick leave in a single write: under load many replies (or requests) finish
 * together, and one syscall for all of them is much cheaper than one each. Every frame counts in
 * `unflushed` until its write's callback has run, that is until the socket has handed it to the kernel.
 */
export class Outbox {
  #frames: Buffer[] = [];
  #charges: (() => void)[] = [];
  /** What to call once the frames queued have been written: not when they are given up. */
  #written: (() => void)[] = [];
  #queued = 0;
  #unflushed = 0;
  readonly #writes = new Set<() => boolean>();
  readonly #write: (data: Buffer, written: () => void) => void;
  readonly #budget: ByteBudgetLike | undefined;
  readonly #onWritten: (() => void) | undefined;

  constructor(write: (data: Buffer, written: () => void) => void, options: OutboxOptions = {}) {
    this.#write = write;
    this.#budget = options.budget;
    this.#onWritten = options.onWritten;
  }

  /** Frames queued for the next write. */
  get queuedFrames(): number {
    return this.#frames.length;
  }

  /** Bytes queued or being written. */
  get unflushed(): number {
    return this.#unflushed;
  }

  /**
   * Queues `frame`; `written` is called once the socket has taken it, or at close if it never went to the
   * socket, never while the socket may still be writing it.
   */
  push(frame: Buffer, written?: () => void): void {
    this.#queued += frame.length;
    this.#unflushed += frame.length;
    if (this.#budget) this.#charges.push(this.#budget.charge(frame.length));
    if (written) this.#written.push(written);
    if (this.#frames.push(frame) === 1) process.nextTick(() => this.flush());
  }

  flush(): void {
    const frames = this.#frames;
    if (frames.length === 0) return;
    const bytes = this.#queued;
    const charges = this.#charges;
    const afterWrite = this.#written;
    this.#frames = [];
    this.#charges = [];
    this.#written = [];
    this.#queued = 0;
    let done = false;
    const end = () => {
      if (done) return false;
      done = true;
      this.#writes.delete(end);
      for (const release of charges) release();
      this.#unflushed -= bytes;
      this.#onWritten?.();
      return true;
    };
    this.#writes.add(end);
    const data = frames.length === 1 ? (frames[0] as Buffer) : Buffer.concat(frames);
    this.#write(data, () => {
      if (end()) for (const written of afterWrite) written();
    });
  }

  /** Gives back everything still counted, queued or being written: the connection is gone, and its bytes with it. */
  close(): void {
    for (const release of this.#charges) release();
    for (const written of this.#written) written();
    this.#frames = [];
    this.#charges = [];
    this.#written = [];
    this.#unflushed -= this.#queued;
    this.#queued = 0;
    for (const end of [...this.#writes]) end();
  }
}
