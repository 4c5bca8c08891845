import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { emptyBlkio } from "./cgroup-stats.js";
import { fixtureFiles, withFiles } from "./fixtures.test-util.js";
import { MAX_UINT64 } from "./stat-files.js";
import { isV2StatFile, statsFromV2 } from "./stats-v2.js";

const written = fixtureFiles("v2");
const entry = (major: bigint, minor: bigint, op: string, value: bigint) => ({ major, minor, op, value });

describe("statsFromV2() on files in the kernel's documented formats", () => {
  const stats = statsFromV2(written);

  it("turns cpu.stat's microseconds into nanoseconds, with no per-CPU usage", () => {
    assert.deepEqual(stats.cpu, {
      usage: { total: 2437185000n, perCpu: [], kernel: 573166000n, user: 1864019000n },
      throttling: { periods: 120n, throttledPeriods: 14n, throttledTime: 352104000n },
    });
  });

  it("reads memory: current, peak, the max events count and the limit; swap added to memory as v1 has it", () => {
    const { stats: all, ...memory } = stats.memory;
    assert.deepEqual(memory, {
      cache: 21045248n,
      usage: { usage: 23805952n, maxUsage: 31457280n, failcnt: 7n, limit: 268435456n },
      swap: { usage: 23805952n + 1048576n, maxUsage: 0n, failcnt: 0n, limit: MAX_UINT64 },
      kernel: { usage: 507904n, maxUsage: 0n, failcnt: 0n, limit: 0n },
      useHierarchy: true,
    });
    assert.equal(Object.keys(all).length, 49);
    assert.equal(all.anon, 2252800n);
    assert.equal(all.shmem, 20971520n);
  });

  it("reads pids", () => {
    assert.deepEqual(stats.pids, { current: 3n, limit: 50n });
  });

  it("maps io.stat onto v1's bytes and operations lists, reads, writes and discards apart", () => {
    assert.deepEqual(stats.blkio, {
      ...emptyBlkio(),
      ioServiceBytesRecursive: [
        entry(8n, 16n, "Read", 1459200n),
        entry(8n, 16n, "Write", 314773504n),
        entry(8n, 16n, "Discard", 0n),
        entry(8n, 0n, "Read", 90430464n),
        entry(8n, 0n, "Write", 299008000n),
        entry(8n, 0n, "Discard", 50331648n),
      ],
      ioServicedRecursive: [
        entry(8n, 16n, "Read", 192n),
        entry(8n, 16n, "Write", 353n),
        entry(8n, 16n, "Discard", 0n),
        entry(8n, 0n, "Read", 8950n),
        entry(8n, 0n, "Write", 1252n),
        entry(8n, 0n, "Discard", 3021n),
      ],
    });
  });

  it("reads hugetlb usage and failures per page size, leaving reservations out", () => {
    assert.deepEqual(stats.hugetlb, {
      "1GB": { usage: 0n, maxUsage: 0n, failcnt: 0n },
      "2MB": { usage: 4194304n, maxUsage: 0n, failcnt: 2n },
    });
  });
});

describe("statsFromV2() on files that differ", () => {
  it("reports unlimited memory and pids as v1 consumers expect: 2^64 - 1 and 0", () => {
    const files = withFiles(written, {
      "memory.max": "max\n",
      "memory.swap.max": "0\n",
      "pids.max": "max\n",
    });
    const stats = statsFromV2(files);
    assert.equal(stats.memory.usage.limit, MAX_UINT64);
    assert.equal(stats.memory.swap.limit, MAX_UINT64);
    assert.equal(stats.pids.limit, 0n);
  });

  it("adds the swap limit to the memory limit when both are set", () => {
    const files = withFiles(written, { "memory.swap.max": "1048576\n", "memory.swap.events": "max 4\n" });
    const { swap } = statsFromV2(files).memory;
    assert.equal(swap.limit, 268435456n + 1048576n);
    assert.equal(swap.failcnt, 4n);
  });

  it("gives zero swap without swap accounting, and no peak before kernel 5.19", () => {
    const files = withFiles(written, {
      "memory.swap.current": undefined,
      "memory.swap.max": undefined,
      "memory.swap.events": undefined,
      "memory.peak": undefined,
    });
    const { usage, swap } = statsFromV2(files).memory;
    assert.deepEqual(swap, { usage: 0n, maxUsage: 0n, failcnt: 0n, limit: 0n });
    assert.equal(usage.maxUsage, 0n);
    assert.equal(usage.usage, 23805952n);
  });

  it("adds up kernel memory from its parts when memory.stat has no kernel key (before 5.18)", () => {
    const stat = (written.get("memory.stat") ?? "").replace(/^kernel \d+\n/m, "");
    const { kernel } = statsFromV2(withFiles(written, { "memory.stat": stat })).memory;
    assert.equal(kernel.usage, 65536n + 122880n + 2400n + 0n + 316904n);
  });

  it("keeps whatever io.stat keys it knows, skips lines that are not a device", () => {
    const files = withFiles(written, { "io.stat": "253:1 rbytes=4096 rios=1 future=7\nbogus rbytes=1\n" });
    assert.deepEqual(statsFromV2(files).blkio, {
      ...emptyBlkio(),
      ioServiceBytesRecursive: [entry(253n, 1n, "Read", 4096n)],
      ioServicedRecursive: [entry(253n, 1n, "Read", 1n)],
    });
  });

  it("gives zeros and empty lists for a directory without the files (controllers not enabled)", () => {
    const stats = statsFromV2(new Map());
    assert.deepEqual(stats.cpu.usage, { total: 0n, perCpu: [], kernel: 0n, user: 0n });
    assert.deepEqual(stats.memory.usage, { usage: 0n, maxUsage: 0n, failcnt: 0n, limit: 0n });
    assert.deepEqual(stats.pids, { current: 0n, limit: 0n });
    assert.deepEqual(stats.blkio, emptyBlkio());
    assert.deepEqual(stats.hugetlb, {});
  });
});

describe("isV2StatFile()", () => {
  it("picks the files the statistics need", () => {
    assert.deepEqual([...written.keys()].filter(isV2StatFile).sort(), [
      "cpu.stat",
      "hugetlb.1GB.current",
      "hugetlb.1GB.events",
      "hugetlb.2MB.current",
      "hugetlb.2MB.events",
      "io.stat",
      "memory.current",
      "memory.events",
      "memory.max",
      "memory.peak",
      "memory.stat",
      "memory.swap.current",
      "memory.swap.events",
      "memory.swap.max",
      "pids.current",
      "pids.max",
    ]);
  });
});
