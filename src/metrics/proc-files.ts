/**
 * Pure parsers of the procfs files GetMetrics reads (proc(5)), each to the items Kata's agent exports, in
 * its order and with its names. Lines that do not have the expected shape are skipped; an item the kernel
 * does not have (an older kernel's shorter lines) is 0, as in Kata.
 */

/** An item of a family: its `item` label and its value. */
export type Item = readonly [item: string, value: number];

/** What /proc/<pid>/stat says of a process (ticks are USER_HZ, sizes bytes, rss pages). */
export interface ProcessStat {
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
  numThreads: number;
  vsize: number;
}

/**
 * /proc/<pid>/stat. The command (field 2) is in parentheses and may hold spaces and parentheses itself,
 * so fields are counted from the last ")". Undefined when the line is not of that shape.
 */
export function parseProcessStat(text: string): ProcessStat | undefined {
  const close = text.lastIndexOf(")");
  if (close < 0) return undefined;
  // From field 3 (state) on: field n is at index n - 3.
  const fields = text
    .slice(close + 1)
    .trim()
    .split(" ");
  const at = (n: number) => Number(fields[n - 3]);
  const stat = {
    utime: at(14),
    stime: at(15),
    cutime: at(16),
    cstime: at(17),
    numThreads: at(20),
    vsize: at(23),
  };
  return Object.values(stat).every(Number.isFinite) ? stat : undefined;
}

/** "Key: value" lines (/proc/<pid>/status, /proc/<pid>/io, /proc/meminfo): each key and its value text. */
export function parseColonFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

/** The leading number of a field's text ("728456 kB" → 728456), or 0 for none. */
export function leadingNumber(text: string | undefined): number {
  const n = Number.parseInt(text ?? "", 10);
  return Number.isFinite(n) ? n : 0;
}

/** The fields of /proc/<pid>/status Kata exports, named as the kernel does, lower-cased. */
const STATUS_FIELDS = [
  "VmPeak",
  "VmSize",
  "VmLck",
  "VmPin",
  "VmHWM",
  "VmRSS",
  "RssAnon",
  "RssFile",
  "RssShmem",
  "VmData",
  "VmStk",
  "VmExe",
  "VmLib",
  "VmPTE",
  "VmSwap",
  "HugetlbPages",
  "voluntary_ctxt_switches",
  "nonvoluntary_ctxt_switches",
];

/** /proc/<pid>/status: sizes in kB, as the file has them; context switches as counts. */
export function statusItems(fields: ReadonlyMap<string, string>): Item[] {
  return STATUS_FIELDS.map((key) => [key.toLowerCase(), leadingNumber(fields.get(key))]);
}

const IO_FIELDS = ["rchar", "wchar", "syscr", "syscw", "read_bytes", "write_bytes", "cancelled_write_bytes"];

/** /proc/<pid>/io. */
export function ioItems(text: string): Item[] {
  const fields = parseColonFields(text);
  return IO_FIELDS.map((key) => [key, leadingNumber(fields.get(key))]);
}

/** /proc/loadavg ("0.20 0.18 0.12 1/80 11206"): the three load averages, and the tasks running and all. */
export function parseLoadavg(text: string): { load: Item[]; tasks: Item[] } | undefined {
  const [one, five, fifteen, tasks = ""] = text.trim().split(/\s+/);
  const [cur, max] = tasks.split("/").map(Number);
  const load: Item[] = [
    ["load1", Number(one)],
    ["load5", Number(five)],
    ["load15", Number(fifteen)],
  ];
  const counts: Item[] = [
    ["cur", cur ?? Number.NaN],
    ["max", max ?? Number.NaN],
  ];
  return [...load, ...counts].every(([, v]) => Number.isFinite(v)) ? { load, tasks: counts } : undefined;
}

const CPU_TIMES = [
  "user",
  "nice",
  "system",
  "idle",
  "iowait",
  "irq",
  "softirq",
  "steal",
  "guest",
  "guest_nice",
];

/** One line "cpu…" of /proc/stat: "total" for the sum of all, else the CPU's number; times in ms. */
export interface CpuTimes {
  cpu: string;
  times: Item[];
}

/** The cpu lines of /proc/stat, their USER_HZ ticks made milliseconds. */
export function parseCpuTimes(text: string, ticksPerSecond: number): CpuTimes[] {
  const msPerTick = 1000 / ticksPerSecond;
  const cpus: CpuTimes[] = [];
  for (const line of text.split("\n")) {
    const match = /^cpu(\d*)\s+(\d[\d\s]*)$/.exec(line);
    if (!match) continue;
    const ticks = (match[2] ?? "").trim().split(/\s+/).map(Number);
    cpus.push({
      cpu: match[1] || "total",
      times: CPU_TIMES.map((item, i) => [item, (ticks[i] ?? 0) * msPerTick]),
    });
  }
  return cpus;
}

/** /proc/vmstat ("nr_free_pages 3541006"): every key and its value, as the kernel has them. */
export function vmstatItems(text: string): Item[] {
  const items: Item[] = [];
  for (const line of text.split("\n")) {
    const [key, value] = line.split(" ");
    if (key && value !== undefined && /^-?\d+$/.test(value)) items.push([key, Number(value)]);
  }
  return items;
}

const DISK_FIELDS = [
  "reads",
  "merged",
  "sectors_read",
  "time_reading",
  "writes",
  "writes_merged",
  "sectors_written",
  "time_writing",
  "in_progress",
  "time_in_progress",
  "weighted_time_in_progress",
  "discards",
  "discards_merged",
  "sectors_discarded",
  "time_discarding",
  "flushes",
  "time_flushing",
];

/** /proc/diskstats: "major minor name" and 11 (kernel < 4.18), 15 (< 5.5) or 17 counters per device. */
export function parseDiskstats(text: string): { disk: string; items: Item[] }[] {
  const disks: { disk: string; items: Item[] }[] = [];
  for (const line of text.split("\n")) {
    const [, , disk, ...counters] = line.trim().split(/\s+/);
    if (!disk || counters.length < 11 || !counters.every((c) => /^\d+$/.test(c))) continue;
    disks.push({ disk, items: DISK_FIELDS.map((item, i) => [item, Number(counters[i] ?? 0)]) });
  }
  return disks;
}

/** The 16 counters of a /proc/net/dev line, in the file's order, as Kata names them. */
export const NET_DEV_ITEMS = [
  "recv_bytes",
  "recv_packets",
  "recv_errs",
  "recv_drop",
  "recv_fifo",
  "recv_frame",
  "recv_compressed",
  "recv_multicast",
  "sent_bytes",
  "sent_packets",
  "sent_errs",
  "sent_drop",
  "sent_fifo",
  "sent_colls",
  "sent_carrier",
  "sent_compressed",
] as const;
