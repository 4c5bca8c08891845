import { readKernelFile } from "./read-kernel-file.js";

/** One network interface's counters, as /proc/net/dev and Kata's NetworkStats have them. */
export interface InterfaceStats {
  name: string;
  rxBytes: bigint;
  rxPackets: bigint;
  rxErrors: bigint;
  rxDropped: bigint;
  txBytes: bigint;
  txPackets: bigint;
  txErrors: bigint;
  txDropped: bigint;
}

/** One interface of /proc/net/dev: its name and its 16 counters (decimal digits) in the file's order. */
export interface NetDevRow {
  name: string;
  counters: readonly string[];
}

/**
 * Parses /proc/net/dev: two header lines, then "name: 8 receive counters 8 transmit counters" per
 * interface (bytes, packets, errs, drop, fifo, frame/colls, compressed/carrier, multicast/compressed).
 * Lines that do not have the 16 counters are skipped. Pure.
 */
export function parseNetDevRows(text: string): NetDevRow[] {
  const rows: NetDevRow[] = [];
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    // Large counters follow the colon without a space.
    const counters = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    if (counters.length !== 16 || !counters.every((c) => /^\d{1,20}$/.test(c))) continue;
    rows.push({ name: line.slice(0, colon).trim(), counters });
  }
  return rows;
}

/** The counters of /proc/net/dev that Kata's NetworkStats has, per interface. Pure. */
export function parseNetDev(text: string): InterfaceStats[] {
  return parseNetDevRows(text).map(({ name, counters }) => {
    const n = counters.map(BigInt);
    return {
      name,
      rxBytes: n[0] ?? 0n,
      rxPackets: n[1] ?? 0n,
      rxErrors: n[2] ?? 0n,
      rxDropped: n[3] ?? 0n,
      txBytes: n[8] ?? 0n,
      txPackets: n[9] ?? 0n,
      txErrors: n[10] ?? 0n,
      txDropped: n[11] ?? 0n,
    };
  });
}

/** The interfaces of the network namespace process `pid` is in, from `<proc>/<pid>/net/dev`. */
export async function readNetDev(pid: number, proc = "/proc"): Promise<InterfaceStats[]> {
  return parseNetDev(await readKernelFile(`${proc}/${pid}/net/dev`));
}
