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
