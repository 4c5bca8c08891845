import {
  type BlkioStats,
  type CgroupFiles,
  type CgroupStats,
  emptyBlkio,
  type HugetlbStats,
  type MemoryData,
} from "./cgroup-stats.js";
import {
  hugePageSizes,
  keyedOf,
  PIDS_FILES,
  parseBlkioFile,
  parseUint,
  pidsOf,
  uintOf,
} from "./stat-files.js";

/*
 * cgroup v1 statistics from the files of the cpu, cpuacct, memory, pids, blkio and hugetlb controllers
 * (Documentation/admin-guide/cgroup-v1/), read the way runc's libcontainer reads them. Pure.
 */

/** cpuacct.stat counts USER_HZ ticks, 100 a second on every architecture. */
const NS_PER_TICK = 10_000_000n;

type BlkioList = keyof BlkioStats;

/**
 * runc's order of preference: BFQ with its debug statistics, BFQ, CFQ (kernels before 5.0), the
 * throttling layer (recursive, then not). The first set whose first file has entries is used.
 */
const BLKIO_SETS: readonly (readonly (readonly [file: string, list: BlkioList])[])[] = [
  [
    ["blkio.bfq.sectors_recursive", "sectorsRecursive"],
    ["blkio.bfq.io_service_time_recursive", "ioServiceTimeRecursive"],
    ["blkio.bfq.io_wait_time_recursive", "ioWaitTimeRecursive"],
    ["blkio.bfq.io_merged_recursive", "ioMergedRecursive"],
    ["blkio.bfq.io_queued_recursive", "ioQueuedRecursive"],
    ["blkio.bfq.time_recursive", "ioTimeRecursive"],
    ["blkio.bfq.io_serviced_recursive", "ioServicedRecursive"],
    ["blkio.bfq.io_service_bytes_recursive", "ioServiceBytesRecursive"],
  ],
  [
    ["blkio.bfq.io_serviced_recursive", "ioServicedRecursive"],
    ["blkio.bfq.io_service_bytes_recursive", "ioServiceBytesRecursive"],
  ],
  [
    ["blkio.sectors_recursive", "sectorsRecursive"],
    ["blkio.io_service_time_recursive", "ioServiceTimeRecursive"],
    ["blkio.io_wait_time_recursive", "ioWaitTimeRecursive"],
    ["blkio.io_merged_recursive", "ioMergedRecursive"],
    ["blkio.io_queued_recursive", "ioQueuedRecursive"],
    ["blkio.time_recursive", "ioTimeRecursive"],
    ["blkio.io_serviced_recursive", "ioServicedRecursive"],
    ["blkio.io_service_bytes_recursive", "ioServiceBytesRecursive"],
  ],
  [
    ["blkio.throttle.io_serviced_recursive", "ioServicedRecursive"],
    ["blkio.throttle.io_service_bytes_recursive", "ioServiceBytesRecursive"],
  ],
  [
    ["blkio.throttle.io_serviced", "ioServicedRecursive"],
    ["blkio.throttle.io_service_bytes", "ioServiceBytesRecursive"],
  ],
];

const MEMORY_DATA = ["usage_in_bytes", "max_usage_in_bytes", "failcnt", "limit_in_bytes"];

const WANTED = new Set([
  "cpu.stat",
  "cpuacct.usage",
  "cpuacct.usage_percpu",
  "cpuacct.usage_user",
  "cpuacct.usage_sys",
  "cpuacct.stat",
  "memory.stat",
  "memory.use_hierarchy",
  ...["memory", "memory.memsw", "memory.kmem"].flatMap((p) => MEMORY_DATA.map((f) => `${p}.${f}`)),
  ...PIDS_FILES,
  ...BLKIO_SETS.flat().map(([file]) => file),
]);

/** Whether the v1 statistics use a file of this name (what a reader needs to read). */
export function isV1StatFile(name: string): boolean {
  return WANTED.has(name) || /^hugetlb\.\d+[KMGT]B\.(usage_in_bytes|max_usage_in_bytes|failcnt)$/.test(name);
}

/** Statistics from the files of the container's v1 controller directories (all in one map). */
export function statsFromV1(files: CgroupFiles): CgroupStats {
  return {
    cpu: cpuV1(files),
    memory: memoryV1(files),
    pids: pidsOf(files),
    blkio: blkioV1(files),
    hugetlb: hugetlbV1(files),
  };
}

function cpuV1(files: CgroupFiles): CgroupStats["cpu"] {
  const ticks = keyedOf(files, "cpuacct.stat");
  const nsOr = (name: string, tickKey: string) =>
    files.has(name) ? uintOf(files, name) : (ticks.get(tickKey) ?? 0n) * NS_PER_TICK;
  const perCpu = (files.get("cpuacct.usage_percpu") ?? "").trim();
  const throttling = keyedOf(files, "cpu.stat");
  return {
    usage: {
      total: uintOf(files, "cpuacct.usage"),
      perCpu: perCpu === "" ? [] : perCpu.split(/\s+/).map((n) => parseUint(n) ?? 0n),
      kernel: nsOr("cpuacct.usage_sys", "system"),
      user: nsOr("cpuacct.usage_user", "user"),
    },
    throttling: {
      periods: throttling.get("nr_periods") ?? 0n,
      throttledPeriods: throttling.get("nr_throttled") ?? 0n,
      throttledTime: throttling.get("throttled_time") ?? 0n,
    },
  };
}

function memoryData(files: CgroupFiles, prefix: string): MemoryData {
  return {
    usage: uintOf(files, `${prefix}.usage_in_bytes`),
    maxUsage: uintOf(files, `${prefix}.max_usage_in_bytes`),
    failcnt: uintOf(files, `${prefix}.failcnt`),
    limit: uintOf(files, `${prefix}.limit_in_bytes`),
  };
}

function memoryV1(files: CgroupFiles): CgroupStats["memory"] {
  const stats = keyedOf(files, "memory.stat");
  return {
    cache: stats.get("cache") ?? 0n,
    usage: memoryData(files, "memory"),
    // Without swap accounting (swapaccount=0) the memsw files are missing: zeros.
    swap: memoryData(files, "memory.memsw"),
    kernel: memoryData(files, "memory.kmem"),
    useHierarchy: uintOf(files, "memory.use_hierarchy") === 1n,
    stats: Object.fromEntries(stats),
  };
}

function blkioV1(files: CgroupFiles): BlkioStats {
  const blkio = emptyBlkio();
  const set = BLKIO_SETS.find(([first]) => parseBlkioFile(files.get(first?.[0] ?? "") ?? "").length > 0);
  for (const [file, list] of set ?? []) blkio[list] = parseBlkioFile(files.get(file) ?? "");
  return blkio;
}

function hugetlbV1(files: CgroupFiles): Record<string, HugetlbStats> {
  const sizes = hugePageSizes(files, "usage_in_bytes");
  return Object.fromEntries(
    sizes.map((size) => [
      size,
      {
        usage: uintOf(files, `hugetlb.${size}.usage_in_bytes`),
        maxUsage: uintOf(files, `hugetlb.${size}.max_usage_in_bytes`),
        failcnt: uintOf(files, `hugetlb.${size}.failcnt`),
      },
    ]),
  );
}
