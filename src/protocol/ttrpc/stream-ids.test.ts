import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StreamIdTracker } from "./stream-ids.js";

describe("StreamIdTracker", () => {
  it("accepts increasing odd ids and refuses even ones", () => {
    const t = new StreamIdTracker();
    assert.equal(t.claim(1), "new");
    assert.equal(t.claim(3), "new");
    assert.equal(t.claim(4), "even");
    assert.equal(t.claim(0), "even");
  });

  it("refuses an id used before", () => {
    const t = new StreamIdTracker();
    t.claim(1);
    t.claim(3);
    assert.equal(t.claim(3), "reused");
    assert.equal(t.claim(1), "reused");
  });

  it("accepts ids that arrive out of order, once each (ttrpc-rust clients)", () => {
    const t = new StreamIdTracker();
    assert.equal(t.claim(5), "new");
    assert.equal(t.claim(1), "new");
    assert.equal(t.claim(3), "new");
    assert.equal(t.claim(1), "reused");
    assert.equal(t.claim(7), "new");
  });

  it("forgets skipped ids beyond its window", () => {
    const t = new StreamIdTracker(4);
    t.claim(1);
    t.claim(21);
    assert.equal(t.claim(11), "reused");
    assert.equal(t.claim(13), "new");
    assert.equal(t.claim(19), "new");
  });

  it("handles the largest odd id", () => {
    const t = new StreamIdTracker();
    assert.equal(t.claim(0xffff_ffff), "new");
    assert.equal(t.claim(0xffff_ffff), "reused");
    assert.equal(t.claim(0xffff_fffd), "new");
  });
});

/** The tracker as it was first written (a Set of every skipped id): the semantics the ranges must keep. */
class SetTracker {
  #highest = -1;
  readonly #skipped = new Set<number>();
  readonly #window: number;

  constructor(window: number) {
    this.#window = window;
  }

  claim(id: number): string {
    if (id % 2 === 0) return "even";
    if (id > this.#highest) {
      for (let s = Math.max(this.#highest + 2, id - 2 * this.#window); s < id; s += 2) this.#skipped.add(s);
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

function seededRandom(seed: number) {
  let state = seed >>> 0;
  return (below: number) => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return Math.floor((state / 2 ** 32) * below);
  };
}

describe("StreamIdTracker keeps skipped ids as ranges", () => {
  it("review #9: answers as the Set-based tracker did on random out-of-order, reused and jumping ids", () => {
    for (const window of [1, 4, 64, 1024]) {
      const random = seededRandom(window);
      const ranges = new StreamIdTracker(window);
      const reference = new SetTracker(window);
      let highest = 1;
      for (let i = 0; i < 20_000; i++) {
        const kind = random(10);
        let id: number;
        if (kind < 4) id = highest + 2 * (1 + random(4));
        else if (kind < 6) id = Math.max(1, highest - 2 * random(3 * window));
        else if (kind < 7) id = highest + 2 * random(6 * window);
        else if (kind < 8) id = random(highest + 4);
        else id = highest - 2 * random(window + 2);
        if (id < 0) id = 1;
        highest = Math.max(highest, id);
        assert.equal(ranges.claim(id), reference.claim(id), `window ${window}, claim ${i} of id ${id}`);
      }
    }
  });

  it("review #9: 100,000 ids stepping by 4098 cost well under a second", () => {
    const t = new StreamIdTracker();
    const start = performance.now();
    for (let i = 0, id = 1; i < 100_000; i++, id += 4098) assert.equal(t.claim(id), "new");
    const ms = performance.now() - start;
    assert.ok(ms < 500, `took ${ms.toFixed(0)} ms`);
    assert.equal(t.claim(1 + 99_999 * 4098 - 2), "new");
    assert.equal(t.claim(1 + 99_998 * 4098), "reused");
  });

  it("review #9: ids claimed inside a wide skipped range stay cheap", () => {
    const t = new StreamIdTracker();
    const start = performance.now();
    let base = 1;
    for (let round = 0; round < 200; round++) {
      base += 4098;
      assert.equal(t.claim(base), "new");
      for (let k = 0; k < 500; k++) assert.equal(t.claim(base - 2048 + 4 * ((k * 7919) % 512) + 2), "new");
    }
    const ms = performance.now() - start;
    assert.ok(ms < 500, `took ${ms.toFixed(0)} ms for 100,200 claims`);
  });
});
