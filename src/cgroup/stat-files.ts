import type { BlkioEntry, CgroupFiles, PidsStats } from "./cgroup-stats.js";

/*
 * Parsers for the cgroup file formats both versions share (Documentation/admin-guide/cgroup-v2.rst,
 * "Interface Files": flat keyed, nested keyed, single values). Pure: what cannot be parsed counts as
 * absent, never as an error, since a file the kernel did not write the way we expect must not cost the
 * caller the rest of the statistics.
 */

export const MAX_UINT64 = 2n ** 64n - 1n;

/** A decimal unsigned 64-bit integer, or undefined. */
export function parseUint(text: string): bigint | undefined {
  if (!/^\d{1,20}$/.test(text)) return undefined;
  const n = BigInt(text);
  return n <= MAX_UINT64 ? n : undefined;
}

/** A single-value file as a number; 0 when absent or not a number. */
export function uintOf(files: CgroupFiles, name: string): bigint {
  return parseUint(files.get(name)?.trim() ?? "") ?? 0n;
}

/** A limit file (v2 `*.max`, v1 `pids.max`): "max" means `unlimited`; absent or garbage is 0. */
export function limitOf(files: CgroupFiles, name: string, unlimited: bigint): bigint {
  const text = files.get(name)?.trim() ?? "";
  return text === "max" ? unlimited : (parseUint(text) ?? 0n);
}

/** The files of the pids controller, the same in cgroup v1 and v2. */
export const PIDS_FILES = ["pids.current", "pids.max"];

/** The number of tasks in the cgroup and their limit (0 for none). */
export function pidsOf(files: CgroupFiles): PidsStats {
  return { current: uintOf(files, "pids.current"), limit: limitOf(files, "pids.max", 0n) };
}

/** A flat keyed file ("key value" per line, e.g. memory.stat, cpu.stat, memory.events). */
export function parseFlatKeyed(text: string): Map<string, bigint> {
  const values = new Map<string, bigint>();
  for (const line of text.split("\n")) {
    const [key, value, extra] = line.trim().split(/\s+/);
    if (key === undefined || value === undefined || extra !== undefined) continue;
    const n = parseUint(value);
    if (n !== undefined) values.set(key, n);
  }
  return values;
}

/** A flat keyed file of `files`; empty when absent. */
export function keyedOf(files: CgroupFiles, name: string): Map<string, bigint> {
  return parseFlatKeyed(files.get(name) ?? "");
}

/** "MAJ:MIN" as numbers, or undefined. */
export function parseDevice(text: string): { major: bigint; minor: bigint } | undefined {
  const match = /^(\d+):(\d+)$/.exec(text);
  const major = parseUint(match?.[1] ?? "");
  const minor = parseUint(match?.[2] ?? "");
  return major === undefined || minor === undefined ? undefined : { major, minor };
}

/**
 * A cgroup v1 blkio statistics file: "MAJ:MIN Op value" lines (io_service_bytes, io_serviced, …) or
 * "MAJ:MIN value" lines (time, sectors: op ""). The trailing "Total n" line, over all devices, is skipped,
 * as runc does.
 */
export function parseBlkioFile(text: string): BlkioEntry[] {
  const entries: BlkioEntry[] = [];
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields.length !== 2 && fields.length !== 3) continue;
    const device = parseDevice(fields[0] ?? "");
    const value = parseUint(fields[fields.length - 1] ?? "");
    if (!device || value === undefined) continue;
    entries.push({ ...device, op: fields.length === 3 ? (fields[1] ?? "") : "", value });
  }
  return entries;
}

/** A nested keyed file ("MAJ:MIN key=value key=value" per line, e.g. v2 io.stat). */
export function parseNestedKeyed(text: string): { device: string; values: Map<string, bigint> }[] {
  const lines: { device: string; values: Map<string, bigint> }[] = [];
  for (const line of text.split("\n")) {
    const [device, ...pairs] = line.trim().split(/\s+/);
    if (!device || pairs.length === 0) continue;
    const values = new Map<string, bigint>();
    for (const pair of pairs) {
      const eq = pair.indexOf("=");
      const n = parseUint(pair.slice(eq + 1));
      if (eq > 0 && n !== undefined) values.set(pair.slice(0, eq), n);
    }
    lines.push({ device, values });
  }
  return lines;
}

/** Page sizes ("2MB", "1GB") that have a `hugetlb.<size>.<suffix>` file in `files`. */
export function hugePageSizes(files: CgroupFiles, suffix: string): string[] {
  const sizes: string[] = [];
  for (const name of files.keys()) {
    const match = /^hugetlb\.(\d+[KMGT]B)\.(.+)$/.exec(name);
    if (match?.[1] && match[2] === suffix) sizes.push(match[1]);
  }
  return sizes.sort();
}
