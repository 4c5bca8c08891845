import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { emptyBlkio } from "./cgroup-stats.js";
import { fixtureFiles, withFiles } from "./fixtures.test-util.js";
import { isV1StatFile, statsFromV1 } from "./stats-v1.js";

const UNLIMITED = 9223372036854771712n;
const recorded = fixtureFiles("v1");
const entry = (op: string, value: bigint, major = 254n, minor = 0n) => ({ major, minor, op, value });

describe("statsFromV1() on files recorded from a runc container", () => {
  const stats = statsFromV1(recorded);

  it("reads CPU time in nanoseconds: total, per CPU, user and kernel, and throttling", () => {
    assert.deepEqual(stats.cpu, {
      usage: {
        total: 208115791n,
        perCpu: [86988879n, 121126912n],
        kernel: 20000000n,
        user: 192000000n,
      },
      throttling: { periods: 0n, throttledPeriods: 0n, throttledTime: 0n },
    });
  });

  it("reads memory usage, peak, failures and limit; memory+swap; kernel memory; cache and memory.stat", () => {
    const { stats: all, ...memory } = stats.memory;
    assert.deepEqual(memory, {
      cache: 20971520n,
      usage: { usage: 21794816n, maxUsage: 21856256n, failcnt: 0n, limit: 268435456n },
      swap: { usage: 21794816n, maxUsage: 21856256n, failcnt: 0n, limit: UNLIMITED },
      kernel: { usage: 339968n, maxUsage: 491520n, failcnt: 0n, limit: UNLIMITED },
      useHierarchy: true,
    });
    assert.equal(Object.keys(all).length, 42);
    assert.equal(all.shmem, 20971520n);
    assert.equal(all.hierarchical_memory_limit, 268435456n);
    assert.equal(all.total_cache, 20971520n);
  });

  it("reads the pids count and limit", () => {
    assert.deepEqual(stats.pids, { current: 3n, limit: 50n });
  });

  it("takes blkio from the throttling layer when BFQ's files hold no device", () => {
    assert.deepEqual(stats.blkio, {
      ...emptyBlkio(),
      ioServiceBytesRecursive: [
        entry("Read", 1048576n),
        entry("Write", 1048576n),
        entry("Sync", 2097152n),
        entry("Async", 0n),
        entry("Discard", 0n),
        entry("Total", 2097152n),
      ],
      ioServicedRecursive: [
        entry("Read", 16n),
        entry("Write", 16n),
        entry("Sync", 32n),
        entry("Async", 0n),
        entry("Discard", 0n),
        entry("Total", 32n),
      ],
    });
  });

  it("has no hugetlb statistics without a hugetlb hierarchy", () => {
    assert.deepEqual(stats.hugetlb, {});
  });
});

describe("statsFromV1() on files that differ", () => {
  it("counts USER_HZ ticks of cpuacct.stat when the nanosecond files are missing", () => {
    const files = withFiles(recorded, { "cpuacct.usage_user": undefined, "cpuacct.usage_sys": undefined });
    const { usage } = statsFromV1(files).cpu;
    assert.equal(usage.user, 180000000n);
    assert.equal(usage.kernel, 10000000n);
  });

  it("reads throttling of a CPU quota", () => {
    const files = withFiles(recorded, {
      "cpu.stat": "nr_periods 52\nnr_throttled 31\nthrottled_time 2741012387\nnr_bursts 0\nburst_time 0\n",
    });
    assert.deepEqual(statsFromV1(files).cpu.throttling, {
      periods: 52n,
      throttledPeriods: 31n,
      throttledTime: 2741012387n,
    });
  });

  it("reads every blkio list of CFQ (kernels before 5.0), time and sectors without an op", () => {
    const ops = "8:0 Read 4\n8:0 Write 6\n8:0 Sync 8\n8:0 Async 2\n8:0 Total 10\nTotal 10\n";
    const files = new Map(
      Object.entries({
        "blkio.sectors_recursive": "8:0 6792\n",
        "blkio.io_service_time_recursive": ops,
        "blkio.io_wait_time_recursive": ops,
        "blkio.io_merged_recursive": ops,
        "blkio.io_queued_recursive": ops,
        "blkio.time_recursive": "8:0 1234\n",
        "blkio.io_serviced_recursive": ops,
        "blkio.io_service_bytes_recursive": ops,
        "blkio.throttle.io_serviced": "8:0 Read 99\n",
      }),
    );
    const listed = ["Read", "Write", "Sync", "Async", "Total"].map((op, i) =>
      entry(op, [4n, 6n, 8n, 2n, 10n][i] ?? 0n, 8n, 0n),
    );
    assert.deepEqual(statsFromV1(files).blkio, {
      ioServiceBytesRecursive: listed,
      ioServicedRecursive: listed,
      ioQueuedRecursive: listed,
      ioServiceTimeRecursive: listed,
      ioWaitTimeRecursive: listed,
      ioMergedRecursive: listed,
      ioTimeRecursive: [entry("", 1234n, 8n, 0n)],
      sectorsRecursive: [entry("", 6792n, 8n, 0n)],
    });
  });

  it("reads hugetlb usage, peak and failures per page size, leaving reservations out", () => {
    const files = withFiles(recorded, {
      "hugetlb.2MB.usage_in_bytes": "4194304\n",
      "hugetlb.2MB.max_usage_in_bytes": "6291456\n",
      "hugetlb.2MB.failcnt": "3\n",
      "hugetlb.2MB.limit_in_bytes": "9223372036854771712\n",
      "hugetlb.2MB.rsvd.usage_in_bytes": "2097152\n",
      "hugetlb.1GB.usage_in_bytes": "0\n",
      "hugetlb.1GB.max_usage_in_bytes": "0\n",
      "hugetlb.1GB.failcnt": "0\n",
    });
    assert.deepEqual(statsFromV1(files).hugetlb, {
      "1GB": { usage: 0n, maxUsage: 0n, failcnt: 0n },
      "2MB": { usage: 4194304n, maxUsage: 6291456n, failcnt: 3n },
    });
  });

  it("answers 0 for an unlimited pids.max and for files without a number", () => {
    const files = withFiles(recorded, { "pids.max": "max\n", "pids.current": "lots\n" });
    assert.deepEqual(statsFromV1(files).pids, { current: 0n, limit: 0n });
  });

  it("gives zeros and empty lists for missing files: a controller not mounted, no swap accounting", () => {
    const stats = statsFromV1(new Map());
    assert.deepEqual(stats, {
      cpu: {
        usage: { total: 0n, perCpu: [], kernel: 0n, user: 0n },
        throttling: { periods: 0n, throttledPeriods: 0n, throttledTime: 0n },
      },
      memory: {
        cache: 0n,
        usage: { usage: 0n, maxUsage: 0n, failcnt: 0n, limit: 0n },
        swap: { usage: 0n, maxUsage: 0n, failcnt: 0n, limit: 0n },
        kernel: { usage: 0n, maxUsage: 0n, failcnt: 0n, limit: 0n },
        useHierarchy: false,
        stats: {},
      },
      pids: { current: 0n, limit: 0n },
      blkio: emptyBlkio(),
      hugetlb: {},
    });
  });
});

describe("isV1StatFile()", () => {
  it("picks the files the statistics need out of the recorded directories", () => {
    assert.deepEqual([...recorded.keys()].filter(isV1StatFile).sort(), [
      "blkio.bfq.io_service_bytes_recursive",
      "blkio.bfq.io_serviced_recursive",
      "blkio.throttle.io_service_bytes",
      "blkio.throttle.io_service_bytes_recursive",
      "blkio.throttle.io_serviced",
      "blkio.throttle.io_serviced_recursive",
      "cpu.stat",
      "cpuacct.stat",
      "cpuacct.usage",
      "cpuacct.usage_percpu",
      "cpuacct.usage_sys",
      "cpuacct.usage_user",
      "memory.failcnt",
      "memory.kmem.failcnt",
      "memory.kmem.limit_in_bytes",
      "memory.kmem.max_usage_in_bytes",
      "memory.kmem.usage_in_bytes",
      "memory.limit_in_bytes",
      "memory.max_usage_in_bytes",
      "memory.memsw.failcnt",
      "memory.memsw.limit_in_bytes",
      "memory.memsw.max_usage_in_bytes",
      "memory.memsw.usage_in_bytes",
      "memory.stat",
      "memory.usage_in_bytes",
      "memory.use_hierarchy",
      "pids.current",
      "pids.max",
    ]);
    assert.ok(isV1StatFile("hugetlb.2MB.usage_in_bytes"));
    assert.ok(!isV1StatFile("hugetlb.2MB.rsvd.usage_in_bytes"));
    assert.ok(!isV1StatFile("hugetlb.2MB.limit_in_bytes"));
  });
});
