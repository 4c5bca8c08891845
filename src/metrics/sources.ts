import { parseNetDevRows } from "../sys/net-dev.js";
import type { SampleSink } from "./families.js";
import { meminfoItems } from "./meminfo.js";
import {
  type Item,
  ioItems,
  leadingNumber,
  NET_DEV_ITEMS,
  parseColonFields,
  parseCpuTimes,
  parseDiskstats,
  parseLoadavg,
  parseProcessStat,
  statusItems,
  vmstatItems,
} from "./proc-files.js";

/**
 * USER_HZ, the unit of every tick count procfs shows: 100 on each architecture Kata runs guests on
 * (x86_64, aarch64, ppc64le, s390x, riscv64), whatever the kernel's own HZ.
 */
export const USER_HZ = 100;

/** A procfs file and the families it feeds. */
export interface Source {
  /** The file, under the procfs root. */
  file: string;
  /** Puts its samples in `sink`; false (and nothing put) when the text is not what that file holds. */
  write(text: string, sink: SampleSink): boolean;
}

/** Every source but mountinfo (the filesystem families), which a scrape reads first. */
export const SOURCES: readonly Source[] = [
  {
    file: "self/stat",
    write(text, sink) {
      const s = parseProcessStat(text);
      if (!s) return false;
      sink.value("kata_agent_threads", s.numThreads);
      sink.value("kata_agent_total_time", (s.utime + s.stime) / USER_HZ);
      sink.value("kata_agent_total_vm", s.vsize);
      sink.items("kata_agent_proc_stat", {}, [
        ["utime", s.utime],
        ["stime", s.stime],
        ["cutime", s.cutime],
        ["cstime", s.cstime],
      ]);
      return true;
    },
  },
  {
    file: "self/status",
    write(text, sink) {
      const fields = parseColonFields(text);
      if (!fields.has("VmRSS")) return false;
      // Kata's figure is the resident pages of /proc/self/stat times the page size: the same count.
      sink.value("kata_agent_total_rss", leadingNumber(fields.get("VmRSS")) * 1024);
      sink.items("kata_agent_proc_status", {}, statusItems(fields));
      return true;
    },
  },
  {
    file: "self/io",
    write(text, sink) {
      if (!text.startsWith("rchar:")) return false;
      sink.items("kata_agent_io_stat", {}, ioItems(text));
      return true;
    },
  },
  {
    file: "loadavg",
    write(text, sink) {
      const l = parseLoadavg(text);
      if (!l) return false;
      sink.items("kata_guest_load", {}, l.load);
      sink.items("kata_guest_tasks", {}, l.tasks);
      return true;
    },
  },
  {
    file: "stat",
    write(text, sink) {
      const cpus = parseCpuTimes(text, USER_HZ);
      for (const { cpu, times } of cpus) {
        sink.items("kata_guest_cpu_time", { cpu }, times);
      }
      return cpus.length > 0;
    },
  },
  {
    file: "vmstat",
    write(text, sink) {
      const items = vmstatItems(text);
      sink.items("kata_guest_vm_stat", {}, items);
      return items.length > 0;
    },
  },
  {
    file: "net/dev",
    write(text, sink) {
      for (const { name, counters } of parseNetDevRows(text)) {
        const items = NET_DEV_ITEMS.map((item, i): Item => [item, Number(counters[i] ?? 0)]);
        sink.items("kata_guest_netdev_stat", { interface: name }, items);
      }
      return true;
    },
  },
  {
    file: "diskstats",
    write(text, sink) {
      for (const { disk, items } of parseDiskstats(text)) {
        sink.items("kata_guest_diskstat", { disk }, items);
      }
      return true;
    },
  },
  {
    file: "meminfo",
    write(text, sink) {
      const items = meminfoItems(text);
      if (!items) return false;
      sink.items("kata_guest_meminfo", {}, items);
      return true;
    },
  },
];
