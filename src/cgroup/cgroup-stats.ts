/*
 * A container's cgroup statistics, the same for cgroup v1 and v2, in the units and layout of runc's
 * libcontainer (and so of Kata's StatsContainer reply): CPU times in nanoseconds, memory in bytes, v2
 * figures mapped onto their v1 counterparts. Counters are bigint: limits reach 2^64 - 1.
 */

export interface CpuUsage {
  total: bigint;
  perCpu: bigint[];
  kernel: bigint;
  user: bigint;
}

export interface Throttling {
  periods: bigint;
  throttledPeriods: bigint;
  /** Nanoseconds. */
  throttledTime: bigint;
}

export interface MemoryData {
  usage: bigint;
  maxUsage: bigint;
  failcnt: bigint;
  limit: bigint;
}

export interface MemoryStats {
  /** Page cache (v1 `cache`, v2 `file`), tmpfs and shm included. */
  cache: bigint;
  usage: MemoryData;
  /** Memory plus swap, as cgroup v1 counts it (v2 figures are added up to match). */
  swap: MemoryData;
  kernel: MemoryData;
  useHierarchy: boolean;
  /** Every key of memory.stat. */
  stats: Record<string, bigint>;
}

export interface PidsStats {
  current: bigint;
  /** 0 when unlimited. */
  limit: bigint;
}

export interface BlkioEntry {
  major: bigint;
  minor: bigint;
  /** "Read", "Write", "Sync", "Async", "Discard", "Total"; "" for per-device totals (time, sectors). */
  op: string;
  value: bigint;
}

export interface BlkioStats {
  ioServiceBytesRecursive: BlkioEntry[];
  ioServicedRecursive: BlkioEntry[];
  ioQueuedRecursive: BlkioEntry[];
  ioServiceTimeRecursive: BlkioEntry[];
  ioWaitTimeRecursive: BlkioEntry[];
  ioMergedRecursive: BlkioEntry[];
  ioTimeRecursive: BlkioEntry[];
  sectorsRecursive: BlkioEntry[];
}

export interface HugetlbStats {
  usage: bigint;
  maxUsage: bigint;
  failcnt: bigint;
}

export interface CgroupStats {
  cpu: { usage: CpuUsage; throttling: Throttling };
  memory: MemoryStats;
  pids: PidsStats;
  blkio: BlkioStats;
  /** Keyed by page size as the kernel names it ("2MB", "1GB"). */
  hugetlb: Record<string, HugetlbStats>;
}

/** A cgroup's files: name (as in the cgroup directory, e.g. "memory.stat") → content. */
export type CgroupFiles = ReadonlyMap<string, string>;

export const emptyBlkio = (): BlkioStats => ({
  ioServiceBytesRecursive: [],
  ioServicedRecursive: [],
  ioQueuedRecursive: [],
  ioServiceTimeRecursive: [],
  ioWaitTimeRecursive: [],
  ioMergedRecursive: [],
  ioTimeRecursive: [],
  sectorsRecursive: [],
});
