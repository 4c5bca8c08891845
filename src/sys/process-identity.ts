import { readdir, readFile } from "node:fs/promises";
import { readKernelFileSync } from "./read-kernel-file.js";

/** A process named for good: a pid alone can be taken by another process once the first has gone. */
export interface ProcessIdentity {
  readonly pid: number;
  /** When it started, in clock ticks since boot (`/proc/<pid>/stat` field 22). */
  readonly startTime: string;
}

/** The command name and start time in a `/proc/<pid>/stat` line; undefined for a zombie or a torn line. */
export function parseProcStat(stat: string): { comm: string; startTime: string } | undefined {
  const open = stat.indexOf("(");
  const close = stat.lastIndexOf(")");
  if (open < 0 || close < open) return undefined;
  // After the name: state (field 3) … starttime (field 22).
  const fields = stat.slice(close + 2).split(" ");
  const state = fields[0];
  const startTime = fields[19];
  if (!state || state === "Z" || state === "X" || !startTime || !/^\d+$/.test(startTime)) return undefined;
  return { comm: stat.slice(open + 1, close), startTime };
}

/**
 * Process `pid` as it is now (its name and start time), or undefined once it is gone or a zombie. Its
 * stat file is read synchronously (see readKernelFileSync): the kernel writes it under the task's own
 * short locks, so this takes microseconds where a thread-pool read took four round trips.
 */
export async function readProcess(
  pid: number,
  proc = "/proc",
): Promise<{ comm: string; startTime: string } | undefined> {
  try {
    return parseProcStat(readKernelFileSync(`${proc}/${pid}/stat`));
  } catch {
    return undefined;
  }
}

/** Whether the process `identity` names is still running (not a later one that took its pid). */
export async function isRunning(identity: ProcessIdentity, proc = "/proc"): Promise<boolean> {
  return (await readProcess(identity.pid, proc))?.startTime === identity.startTime;
}

/** Every process's pid and argv (from /proc/<pid>/cmdline); kernel threads, with none, are left out. */
export async function processCommandLines(proc = "/proc"): Promise<{ pid: number; argv: string[] }[]> {
  const pids = (await readdir(proc)).filter((name) => /^\d+$/.test(name)).map(Number);
  const lines = await Promise.all(
    pids.map(async (pid) => {
      const text = await readFile(`${proc}/${pid}/cmdline`, "utf8").catch(() => "");
      return { pid, argv: text.split("\0").slice(0, -1) };
    }),
  );
  return lines.filter((l) => l.argv.length > 0);
}
