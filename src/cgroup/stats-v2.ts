import {
  type BlkioEntry,
  type CgroupFiles,
  type CgroupStats,
  emptyBlkio,
  type HugetlbStats,
  type MemoryData,
} from "./cgroup-stats.js";
import {
  hugePageSizes,
  keyedOf,
  limitOf,
  MAX_UINT64,
  PIDS_FILES,
  parseDevice,
  parseNestedKeyed,
  pidsOf,
  uintOf,
} from "./stat-files.js";

/*
 * cgroup v2 statistics from the files of the container's unified cgroup directory
 * (Documentation/admin-guide/cgroup-v2.rst), mapped onto the v1 layout as runc's libcontainer maps them,
 * plus what v2 has and runc leaves out: the peak (memory.peak) and the number of times the limit was hit
 * (the "max" count of memory.events) as max_usage and failcnt. Pure.
 */

const WANTED = new Set([
  "cpu.stat",
  "memory.current",
  "memory.peak",
  "memory.max",
  "memory.events",
  "memory.stat",
  "memory.swap.current",
  "memory.swap.max",
  "memory.swap.events",
  ...PIDS_FILES,
  "io.stat",
]);

/** Whether the v2 statistics use a file of this name (what a reader needs to read). */
export function isV2StatFile(name: string): boolean {
  return WANTED.has(name) || /^hugetlb\.\d+[KMGT]B\.(current|events)$/.test(name);
}

/** Statistics from the files of the container's cgroup v2 directory. */
export function statsFromV2(files: CgroupFiles): CgroupStats {
  return {
    cpu: cpuV2(files),
    memory: memoryV2(files),
    pids: pidsOf(files),
    blkio: blkioV2(files),
    hugetlb: hugetlbV2(files),
  };
}

function cpuV2(files: CgroupFiles): CgroupStats["cpu"] {
  const stat = keyedOf(files, "cpu.stat");
  const ns = (key: string) => (stat.get(key) ?? 0n) * 1000n;
  return {
    // v2 keeps no per-CPU usage.
    usage: { total: ns("usage_usec"), perCpu: [], kernel: ns("system_usec"), user: ns("user_usec") },
    throttling: {
      periods: stat.get("nr_periods") ?? 0n,
      throttledPeriods: stat.get("nr_throttled") ?? 0n,
      throttledTime: ns("throttled_usec"),
    },
  };
}

const ZERO: MemoryData = { usage: 0n, maxUsage: 0n, failcnt: 0n, limit: 0n };

/** What memory.stat of a kernel before 5.18 (no "kernel" key) adds up to it. */
const KERNEL_PARTS = ["kernel_stack", "pagetables", "percpu", "vmalloc", "slab"];

function memoryV2(files: CgroupFiles): CgroupStats["memory"] {
  const stats = keyedOf(files, "memory.stat");
  const usage: MemoryData = {
    usage: uintOf(files, "memory.current"),
    maxUsage: uintOf(files, "memory.peak"),
    failcnt: keyedOf(files, "memory.events").get("max") ?? 0n,
    limit: limitOf(files, "memory.max", MAX_UINT64),
  };
  const swapLimit = limitOf(files, "memory.swap.max", MAX_UINT64);
  // v1 counts memory plus swap; v2 swap alone, so the two are added up. No combined peak exists.
  const swap: MemoryData = files.has("memory.swap.current")
    ? {
        usage: uintOf(files, "memory.swap.current") + usage.usage,
        maxUsage: 0n,
        failcnt: keyedOf(files, "memory.swap.events").get("max") ?? 0n,
        limit: swapLimit === MAX_UINT64 || usage.limit === MAX_UINT64 ? MAX_UINT64 : swapLimit + usage.limit,
      }
    : ZERO;
  const kernel = stats.get("kernel") ?? KERNEL_PARTS.reduce((sum, key) => sum + (stats.get(key) ?? 0n), 0n);
  return {
    cache: stats.get("file") ?? 0n,
    usage,
    swap,
    // v2 has no kernel memory limit of its own.
    kernel: { ...ZERO, usage: kernel },
    useHierarchy: true,
    stats: Object.fromEntries(stats),
  };
}

/** io.stat keys → the v1 list and op they stand for (runc's mapping, with discards). */
const IO_KEYS: readonly (readonly [
  key: string,
  list: "ioServiceBytesRecursive" | "ioServicedRecursive",
  op: string,
])[] = [
  ["rbytes", "ioServiceBytesRecursive", "Read"],
  ["wbytes", "ioServiceBytesRecursive", "Write"],
  ["dbytes", "ioServiceBytesRecursive", "Discard"],
  ["rios", "ioServicedRecursive", "Read"],
  ["wios", "ioServicedRecursive", "Write"],
  ["dios", "ioServicedRecursive", "Discard"],
];

function blkioV2(files: CgroupFiles): CgroupStats["blkio"] {
  const blkio = emptyBlkio();
  for (const { device, values } of parseNestedKeyed(files.get("io.stat") ?? "")) {
    const dev = parseDevice(device);
    if (!dev) continue;
    for (const [key, list, op] of IO_KEYS) {
      const value = values.get(key);
      if (value !== undefined) blkio[list].push({ ...dev, op, value } satisfies BlkioEntry);
    }
  }
  return blkio;
}

function hugetlbV2(files: CgroupFiles): Record<string, HugetlbStats> {
  return Object.fromEntries(
    hugePageSizes(files, "current").map((size) => [
      size,
      {
        usage: uintOf(files, `hugetlb.${size}.current`),
        // v2 keeps no peak for huge pages.
        maxUsage: 0n,
        failcnt: keyedOf(files, `hugetlb.${size}.events`).get("max") ?? 0n,
      },
    ]),
  );
}
