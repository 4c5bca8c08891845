export type StreamIdVerdict = "new" | "even" | "reused";

/**
 * Tracks which client stream ids a connection has used.
 *
 * ttrpc stream ids are odd and each is used once. containerd/ttrpc's server also demands that they
 * increase, but ttrpc-rust's client (used by Kata's runtime-rs) takes ids from an atomic counter and
 * sends from several tasks, so two calls can arrive out of order. We therefore accept any odd id not
 * seen before: ids skipped over are remembered (at most `window` of them, the oldest forgotten first)
 * and may still arrive later.
 *
 * The skipped ids are kept as ranges, so a claim costs the same whatever the ids jump by: a jump adds at
 * most one range and forgetting drops or shortens the oldest ones (each range is dropped once); only an
 * id claimed inside a range splits it, which moves the ranges above it (at most `window`).
 */
export class StreamIdTracker {
  #highest = -1;
  /** Ranges of skipped, unclaimed odd ids, first to last inclusive, in increasing order from `#head`. */
  #first: number[] = [];
  #last: number[] = [];
  #head = 0;
  #remembered = 0;
  readonly #window: number;

  constructor(window = 1024) {
    this.#window = window;
  }

  claim(id: number): StreamIdVerdict {
    if (id % 2 === 0) return "even";
    if (id > this.#highest) {
      const from = Math.max(this.#highest + 2, id - 2 * this.#window);
      if (from < id) {
        this.#first.push(from);
        this.#last.push(id - 2);
        this.#remembered += (id - from) / 2;
        this.#forgetOldest();
      }
      this.#highest = id;
      return "new";
    }
    return this.#unskip(id) ? "new" : "reused";
  }

  #forgetOldest() {
    while (this.#remembered > this.#window) {
      const first = this.#first[this.#head] as number;
      const last = this.#last[this.#head] as number;
      const size = (last - first) / 2 + 1;
      const excess = this.#remembered - this.#window;
      if (size > excess) {
        this.#first[this.#head] = first + 2 * excess;
        this.#remembered -= excess;
      } else {
        this.#head++;
        this.#remembered -= size;
      }
    }
    if (this.#head > 32 && this.#head * 2 > this.#first.length) {
      this.#first.splice(0, this.#head);
      this.#last.splice(0, this.#head);
      this.#head = 0;
    }
  }

  /** Removes `id` from the skipped ranges; false if it is not in one. */
  #unskip(id: number): boolean {
    let lo = this.#head;
    let hi = this.#first.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#last[mid] as number) < id) lo = mid + 1;
      else if ((this.#first[mid] as number) > id) hi = mid - 1;
      else {
        this.#cut(mid, id);
        this.#remembered--;
        return true;
      }
    }
    return false;
  }

  #cut(range: number, id: number) {
    const first = this.#first[range] as number;
    const last = this.#last[range] as number;
    if (first === last) {
      this.#first.splice(range, 1);
      this.#last.splice(range, 1);
    } else if (id === first) {
      this.#first[range] = id + 2;
    } else if (id === last) {
      this.#last[range] = id - 2;
    } else {
      this.#last[range] = id - 2;
      this.#first.splice(range + 1, 0, id + 2);
      this.#last.splice(range + 1, 0, last);
    }
  }
}
