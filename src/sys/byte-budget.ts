/**
 * A count of bytes the agent holds on behalf of its peers, with a limit: the one number a flood cannot
 * push past. `charge` accounts for bytes already in hand (it may pass the limit: they exist either way);
 * `take` grants bytes before they are taken from somewhere else (a pipe, a socket), waiting while none
 * are left, so what is not granted stays where it was.
 */
/** Bytes granted by a budget, charged to it until `release`. */
export interface Grant {
  readonly bytes: number;
  readonly release: () => void;
}

export class ByteBudget {
  readonly limit: number;
  #used = 0;
  #waiters: (() => void)[] = [];

  constructor(limit: number) {
    if (!Number.isSafeInteger(limit) || limit <= 0)
      throw new RangeError(`budget limit ${limit} is not a positive integer`);
    this.limit = limit;
  }

  get used(): number {
    return this.#used;
  }

  /** Bytes that can be granted now without passing the limit. */
  get available(): number {
    return Math.max(0, this.limit - this.#used);
  }

  /** Counts `bytes` as held; the returned function gives them back (calling it again does nothing). */
  charge(bytes: number): () => void {
    this.#used += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#release(bytes);
    };
  }

  /**
   * Grants up to `max` bytes (at least one), waiting while none are available; rejects with the signal's
   * reason if it aborts first. The grant is charged: release it once the bytes are gone.
   */
  async take(max: number, signal?: AbortSignal): Promise<Grant> {
    for (;;) {
      signal?.throwIfAborted();
      const grant = this.takeNow(max);
      if (grant) return grant;
      await this.#changed(signal);
    }
  }

  /** What `take` grants when bytes are available now; undefined, without waiting, when none are. */
  takeNow(max: number): Grant | undefined {
    const bytes = Math.min(max, this.available);
    return bytes > 0 ? { bytes, release: this.charge(bytes) } : undefined;
  }

  #changed(signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        signal?.removeEventListener("abort", done);
        const i = this.#waiters.indexOf(done);
        if (i >= 0) this.#waiters.splice(i, 1);
        resolve();
      };
      this.#waiters.push(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  #release(bytes: number) {
    this.#used -= bytes;
    if (this.#waiters.length === 0 || this.available === 0) return;
    for (const wake of [...this.#waiters]) wake();
  }
}
