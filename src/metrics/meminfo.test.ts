import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { meminfoItems } from "./meminfo.js";

const MEMINFO = readFileSync(new URL("../../../src/metrics/testdata/proc/meminfo", import.meta.url), "utf8");

describe("meminfoItems()", () => {
  const items = meminfoItems(MEMINFO) ?? [];
  const byName = new Map(items);

  it("gives Kata's 58 items of a recorded /proc/meminfo, in Kata's order", () => {
    assert.equal(items.length, 58);
    assert.equal(byName.size, 58);
    assert.deepEqual(items[0], ["mem_total", 24683584 * 1024]);
    assert.deepEqual(items.at(-1), ["k_reclaimable", 58920 * 1024]);
  });

  it("gives kB lines in bytes and the huge page counts as counts", () => {
    assert.equal(byName.get("vmalloc_total"), 34359738367 * 1024);
    assert.equal(byName.get("active_anon"), 2564 * 1024);
    assert.equal(byName.get("hugepagesize"), 2048 * 1024);
    assert.equal(byName.get("per_cpu"), 744 * 1024);
    assert.equal(byName.get("direct_map_1G"), 25165824 * 1024);
    assert.equal(meminfoItems("MemTotal: 1 kB\nHugePages_Total:      7\n")?.[46]?.[1], 7);
  });

  it("gives 0 for a line this kernel does not have", () => {
    assert.equal(byName.get("high_total"), 0);
    assert.equal(byName.get("direct_map_4M"), 0);
  });

  it("is undefined for a text with no MemTotal", () => {
    assert.equal(meminfoItems("cpu 1 2 3\n"), undefined);
  });
});
