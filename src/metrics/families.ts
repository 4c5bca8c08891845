import { exposition, FamilySamples, type FamilyShape } from "./exposition.js";
import type { Item } from "./proc-files.js";

/**
 * The gauge families of Kata's agent (metrics.rs): name, HELP text (Kata's, word for word: dashboards and
 * kata-monitor key on them) and label names, sorted by name as Kata's encoder sorts them.
 */
export const GAUGE_FAMILIES = {
  kata_agent_io_stat: ["Agent process IO statistics.", ["item"]],
  kata_agent_proc_stat: ["Agent process statistics.", ["item"]],
  kata_agent_proc_status: ["Agent process status.", ["item"]],
  kata_agent_threads: ["Agent process threads", []],
  kata_agent_total_rss: ["Agent process total RSS size", []],
  kata_agent_total_time: ["Agent process total time", []],
  kata_agent_total_vm: ["Agent process total VM size", []],
  kata_guest_cpu_time: ["Guest CPU statistics.", ["cpu", "item"]],
  kata_guest_diskstat: ["Disks statistics in system.", ["disk", "item"]],
  kata_guest_filesystem_bytes: ["Guest filesystem space usage in bytes.", ["mount", "device", "item"]],
  kata_guest_filesystem_inodes: ["Guest filesystem inode usage.", ["mount", "device", "item"]],
  kata_guest_load: ["Guest system load.", ["item"]],
  kata_guest_meminfo: ["Statistics about memory usage in the system.", ["item"]],
  kata_guest_netdev_stat: ["Guest net devices statistics.", ["interface", "item"]],
  kata_guest_tasks: ["Guest system load.", ["item"]],
  kata_guest_vm_stat: ["Guest virtual memory statistics.", ["item"]],
} as const satisfies Record<string, readonly [help: string, labels: readonly string[]]>;

export type GaugeFamily = keyof typeof GAUGE_FAMILIES;

/** The families of one sample and no labels. */
export type ValueFamily = {
  [F in GaugeFamily]: (typeof GAUGE_FAMILIES)[F][1] extends readonly [] ? F : never;
}[GaugeFamily];

/** The families labelled by `item` last, and maybe others before it. */
export type ItemFamily = Exclude<GaugeFamily, ValueFamily>;

export type Labels = Readonly<Record<string, string>>;

/** Where a source puts its samples. */
export interface SampleSink {
  value(family: ValueFamily, value: number): void;
  /** A sample per item, labelled with `labels` (the family's labels but `item`) and the item's name. */
  items(family: ItemFamily, labels: Labels, items: Iterable<Item>): void;
}

const SCRAPE_COUNT: FamilyShape = {
  name: "kata_agent_scrape_count",
  help: "Metrics scrape count",
  type: "counter",
  labelNames: [],
};

const GAUGES = Object.entries(GAUGE_FAMILIES).map(
  ([name, [help, labelNames]]): FamilyShape => ({ name, help, type: "gauge", labelNames }),
);

/** Every family, sorted by name: the order of the text. */
const ORDER = [SCRAPE_COUNT, ...GAUGES].sort((a, b) => (a.name < b.name ? -1 : 1));

/**
 * The families of one scrape after another. Each scrape's samples are its own: an interface, disk or
 * mount that went away leaves no stale series (Kata resets only the filesystem families), and a family
 * with no samples this time is left out (as Kata's encoder does). Only the scrape count lives on.
 */
export class MetricFamilies {
  #scrapes = 0;

  /** Counts a scrape; its samples go to the sink returned, its text comes from `text()`. */
  scrape(): SampleSink & { text(): string } {
    this.#scrapes++;
    const samples = new Map(ORDER.map((family) => [family.name, new FamilySamples(family)]));
    const of = (name: string) => samples.get(name) as FamilySamples;
    of(SCRAPE_COUNT.name).value(this.#scrapes);
    return {
      value: (name, value) => of(name).value(value),
      items: (name, labels, items) => of(name).items(labels, items),
      text: () => exposition(samples.values()),
    };
  }
}
