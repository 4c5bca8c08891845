import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { volumeStatsFromStatfs } from "./volume-stats.js";

describe("volumeStatsFromStatfs()", () => {
  it("counts bytes in blocks, available without root's reserve, used as all but the free blocks", () => {
    const fs = { bsize: 4096n, blocks: 1000n, bfree: 600n, bavail: 550n, files: 256n, ffree: 200n };
    assert.deepEqual(volumeStatsFromStatfs(fs), {
      bytes: { total: 4_096_000n, available: 2_252_800n, used: 1_638_400n },
      inodes: { total: 256n, available: 200n, used: 56n },
    });
  });

  it("keeps figures past 2^53 exact", () => {
    const fs = { bsize: 4096n, blocks: 2n ** 50n, bfree: 1n, bavail: 1n, files: 0n, ffree: 0n };
    assert.equal(volumeStatsFromStatfs(fs).bytes.used, 2n ** 62n - 4096n);
  });

  it("never answers a negative figure for a filesystem that reports more free than total", () => {
    const fs = { bsize: 512n, blocks: 1n, bfree: 2n, bavail: 2n, files: 0n, ffree: 5n };
    const stats = volumeStatsFromStatfs(fs);
    assert.equal(stats.bytes.used, 0n);
    assert.equal(stats.inodes.used, 0n);
  });
});
