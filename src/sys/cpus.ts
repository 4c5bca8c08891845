import { AgentError, Code } from "../errors.js";
import { readKernelFileSync } from "./read-kernel-file.js";

/**
 * The guest's online CPUs in cpulist format ("0-3,5"), from `<sysfs>/devices/system/cpu/online`: read
 * synchronously (see readKernelFileSync), the kernel prints its own CPU mask there, no driver answers.
 */
export async function onlineCpus(sysfs = "/sys"): Promise<string> {
  const file = `${sysfs}/devices/system/cpu/online`;
  try {
    return readKernelFileSync(file).trim();
  } catch (error) {
    throw AgentError.wrap(error, `cannot read the online CPUs from ${file}`);
  }
}

/** The kernel's NR_CPUS ceiling: a CPU number at or above it is not a CPU. */
export const MAX_CPUS = 8192;
const MAX_CPU_LIST_LENGTH = 64 * 1024;

/**
 * Parses a cpulist ("0-3,5", as in sysfs and cpuset.cpus) into sorted, distinct CPU numbers. Surrounding
 * whitespace is ignored and "" is no CPUs. Throws INVALID_ARGUMENT for anything else, a reversed range,
 * or a CPU number of {@link MAX_CPUS} or more.
 */
export function parseCpuList(text: string): number[] {
  const invalid = (why: string) =>
    new AgentError(Code.INVALID_ARGUMENT, `invalid CPU list ${JSON.stringify(text.slice(0, 80))}: ${why}`);
  if (text.length > MAX_CPU_LIST_LENGTH) throw invalid(`longer than ${MAX_CPU_LIST_LENGTH} characters`);
  const trimmed = text.trim();
  if (trimmed === "") return [];
  const cpus = new Set<number>();
  for (const item of trimmed.split(",")) {
    const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(item);
    if (!match) throw invalid(`${JSON.stringify(item)} is not a CPU number or a range N-M`);
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (last >= MAX_CPUS) throw invalid(`CPU ${last} is beyond the ${MAX_CPUS}-CPU limit`);
    if (first > last) throw invalid(`range ${item} runs backwards`);
    for (let n = first; n <= last; n++) cpus.add(n);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** Formats CPU numbers (non-negative integers) as a cpulist, runs as ranges: [0, 1, 2, 3, 5] → "0-3,5". */
export function formatCpuList(cpus: readonly number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] ?? 0) + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}
