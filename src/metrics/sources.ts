import { parseNetDevRows } from "../sys/net-dev.js";
import type { GaugeFamily, SampleSink } from "./families.js";
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

function putItems(sink: SampleSink, family: GaugeFamily, items: readonly Item[]): void {
  for (const [item, value] of items) sink.set(family, { item }, value);
}

/** Every source but mountinfo (the filesystem families), which a scrape reads first. */
export const SOURCES: readonly Source[] = [
  {
    file: "self/stat",
    write(text, sink) {
      const s = parseProcessStat(text);
      if (!s) return false;
      sink.set("kata_agent_threads", {}, s.numThreads);
      sink.set("kata_agent_total_time", {}, (s.utime + s.stime) / USER_HZ);
      sink.set("kata_agent_total_vm", {}, s.vsize);
      putItems(sink, "kata_agent_proc_stat", [
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
      sink.set("kata_agent_total_rss", {}, leadingNumber(fields.get("VmRSS")) * 1024);
      putItems(sink, "kata_agent_proc_status", statusItems(fields));
      return true;
    },
  },
  {
    file: "self/io",
    write(text, sink) {
      if (!text.startsWith("rchar:")) return false;
      putItems(sink, "kata_agent_io_stat", ioItems(text));
      return true;
    },
  },
  {
    file: "loadavg",
    write(text, sink) {
      const l = parseLoadavg(text);
      if (!l) return false;
      putItems(sink, "kata_guest_load", l.load);
      putItems(sink, "kata_guest_tasks", l.tasks);
      return true;
    },
  },
  {
    file: "stat",
    write(text, sink) {
      const cpus = parseCpuTimes(text, USER_HZ);
      for (const { cpu, times } of cpus) {
        for (const [item, value] of times) sink.set("kata_guest_cpu_time", { cpu, item }, value);
      }
      return cpus.length > 0;
    },
  },
  {
    file: "vmstat",
    write(text, sink) {
      const items = vmstatItems(text);
      putItems(sink, "kata_guest_vm_stat", items);
      return items.length > 0;
    },
  },
  {
    file: "net/dev",
    write(text, sink) {
      for (const { name, counters } of parseNetDevRows(text)) {
        NET_DEV_ITEMS.forEach((item, i) => {
          sink.set("kata_guest_netdev_stat", { interface: name, item }, Number(counters[i] ?? 0));
        });
      }
      return true;
    },
  },
  {
    file: "diskstats",
    write(text, sink) {
      for (const { disk, items } of parseDiskstats(text)) {
        for (const [item, value] of items) sink.set("kata_guest_diskstat", { disk, item }, value);
      }
      return true;
    },
  },
  {
    file: "meminfo",
    write(text, sink) {
      const items = meminfoItems(text);
      if (!items) return false;
      putItems(sink, "kata_guest_meminfo", items);
      return true;
    },
  },
];
