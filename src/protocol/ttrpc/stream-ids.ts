export type StreamIdVerdict = "new" | "even" | "reused";

/**
 * Tracks which client stream ids a connection has used.
 *
 * ttrpc stream ids are odd and each is used once. containerd/ttrpc's server also demands that they
 * increase, but ttrpc-rust's client (used by Kata's runtime-rs) takes ids from an atomic counter and
 * sends from several tasks, so two calls can arrive out of order. We therefore accept any odd id not
 * seen before: ids skipped over are remembered (at most `window` of them, the oldest forgotten first)
 * and may still arrive later.
 */
export class StreamIdTracker {
  #highest = -1;
  readonly #skipped = new Set<number>();
  readonly #window: number;

  constructor(window = 1024) {
    this.#window = window;
  }

  claim(id: number): StreamIdVerdict {
    if (id % 2 === 0) return "even";
    if (id > this.#highest) {
      const from = Math.max(this.#highest + 2, id - 2 * this.#window);
      for (let skipped = from; skipped < id; skipped += 2) this.#skipped.add(skipped);
      for (const oldest of this.#skipped) {
        if (this.#skipped.size <= this.#window) break;
        this.#skipped.delete(oldest);
      }
      this.#highest = id;
      return "new";
    }
    return this.#skipped.delete(id) ? "new" : "reused";
  }
}
