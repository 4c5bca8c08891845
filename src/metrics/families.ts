import Counter from "prom-client/lib/counter.js";
import Gauge from "prom-client/lib/gauge.js";
import Registry from "prom-client/lib/registry.js";

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

export type Labels = Readonly<Record<string, string>>;

/** Where a source puts its samples. */
export interface SampleSink {
  set(family: GaugeFamily, labels: Labels, value: number): void;
}

const SCRAPE_COUNT = "kata_agent_scrape_count";
/** Every family's name, sorted: the order of the text. */
const ORDER = [SCRAPE_COUNT, ...Object.keys(GAUGE_FAMILIES)].sort() as (GaugeFamily | typeof SCRAPE_COUNT)[];

/**
 * The families as prom-client metrics. Each scrape makes its gauges and registry anew (a Scrape): an
 * interface, disk or mount that went away leaves no stale series (Kata resets only the filesystem
 * families), a family with no samples this time is left out (as Kata's encoder does), and what a scrape
 * allocates dies young. Only the scrape count lives on.
 */
export class MetricFamilies {
  readonly #scrapes = new Counter({ name: SCRAPE_COUNT, help: "Metrics scrape count", registers: [] });

  /** Counts a scrape; its samples go to the sink returned, its text comes from `text()`. */
  scrape(): SampleSink & { text(): Promise<string> } {
    this.#scrapes.inc();
    const scrapes = this.#scrapes;
    const gauges = new Map<GaugeFamily, Gauge>();
    return {
      set(family, labels, value) {
        let gauge = gauges.get(family);
        if (!gauge) {
          const [help, labelNames] = GAUGE_FAMILIES[family];
          gauge = new Gauge({ name: family, help, labelNames, registers: [] });
          gauges.set(family, gauge);
        }
        // The gauge is this scrape's, so each series starts at 0 and inc() sets it. prom-client hashes inc()'s
        // labels by the gauge's sorted label names, where set() sorts each sample's keys anew: that sort
        // was a sixth of what a scrape allocated. Sources give each series once.
        gauge.inc(labels, value);
      },
      text() {
        const registry = new Registry();
        for (const name of ORDER) {
          const metric = name === SCRAPE_COUNT ? scrapes : gauges.get(name);
          if (metric) registry.registerMetric(metric);
        }
        return registry.metrics();
      },
    };
  }
}
