import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { BufferPool } from "./buffer-pool.js";

describe("BufferPool", () => {
  it("hands out a buffer given back again, the same memory", () => {
    const pool = new BufferPool(1024);
    const a = pool.take();
    pool.give(a.subarray(10, 20));
    const b = pool.take();
    assert.equal(b.buffer, a.buffer);
    assert.equal(b.length, 1024);
  });

  it("ignores buffers it did not hand out, and a second give of the same one", () => {
    const pool = new BufferPool(16);
    pool.give(Buffer.allocUnsafeSlow(16));
    assert.equal(pool.kept, 0);
    const a = pool.take();
    pool.give(a);
    pool.give(a);
    assert.equal(pool.kept, 1);
    assert.notEqual(pool.take().buffer, pool.take().buffer);
  });

  it("keeps at most `keep` buffers, and none once idle", async () => {
    const pool = new BufferPool(16, { keep: 2, idleMs: 50 });
    const taken = [pool.take(), pool.take(), pool.take()];
    for (const b of taken) pool.give(b);
    assert.equal(pool.kept, 2);
    await sleep(80);
    assert.equal(pool.kept, 0);
  });
});
