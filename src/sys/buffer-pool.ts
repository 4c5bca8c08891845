/**
 * Buffers of one size kept for reuse. A fresh buffer's pages are faulted in, zeroed and charged to the
 * memory cgroup by its first write: reading 1 GiB of a process's stdout into fresh 1 MiB buffers spent
 * most of the agent's time in the kernel's page-fault path (perf). A buffer given back is kept, up to
 * `keep` of them, and every kept one is let go `idleMs` after the last take: a burst leaves nothing held.
 */
export class BufferPool {
  readonly size: number;
  readonly #keep: number;
  #free: Buffer[] = [];
  readonly #out = new WeakSet<ArrayBufferLike>();
  readonly #idle: NodeJS.Timeout;

  constructor(size: number, options: { keep?: number; idleMs?: number } = {}) {
    this.size = size;
    this.#keep = options.keep ?? 2;
    this.#idle = setTimeout(() => {
      this.#free = [];
    }, options.idleMs ?? 2000);
    this.#idle.unref();
  }

  /** Buffers kept for the next takes. */
  get kept(): number {
    return this.#free.length;
  }

  /** A buffer of `size` bytes, its ArrayBuffer its own: kept from before, else new. */
  take(): Buffer {
    const buffer = this.#free.pop() ?? Buffer.allocUnsafeSlow(this.size);
    this.#out.add(buffer.buffer);
    this.#idle.refresh();
    return buffer;
  }

  /**
   * Gives back the buffer `view` lies in, which nothing may use any more. A buffer this pool did not hand
   * out, or was given back already, is left alone.
   */
  give(view: Uint8Array): void {
    const whole = view.buffer;
    if (!this.#out.delete(whole)) return;
    if (this.#free.length < this.#keep) this.#free.push(Buffer.from(whole));
  }
}
