import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { parseMountinfo } from "../../src/sys/mountinfo.js";

/** Mount points under `dir` in the mount namespace of process `pid`. */
export function mountsUnder(pid: number, dir: string): string[] {
  return parseMountinfo(readFileSync(`/proc/${pid}/mountinfo`, "utf8"))
    .map((m) => m.mountPoint)
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
}

/** Container ids runc still knows under `root`. */
export function runcContainers(root: string): string[] {
  if (!existsSync(root)) return [];
  const out = execFileSync("runc", ["--root", root, "list", "--format", "json"], { encoding: "utf8" });
  return ((JSON.parse(out || "null") as { id: string }[] | null) ?? []).map((c) => c.id);
}

/** Entries of `dir`, or none when it does not exist. */
export function entries(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** cgroup v1/v2 directories named `name` directly under any controller (runc's default cgroup path). */
export function cgroupDirs(name: string): string[] {
  const root = "/sys/fs/cgroup";
  const found: string[] = [];
  for (const controller of readdirSync(root)) {
    if (existsSync(`${root}/${controller}/${name}`)) found.push(`${root}/${controller}/${name}`);
  }
  if (existsSync(`${root}/${name}`)) found.push(`${root}/${name}`);
  return found;
}

/** The command name, state letter ("R", "S", "Z", …) and parent of process `pid`; undefined once it is gone. */
export function procStat(pid: number): { comm: string; state: string; ppid: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may itself hold spaces and parentheses.
  const close = stat.lastIndexOf(")");
  const [state = "", ppid] = stat.slice(close + 2).split(" ");
  return { comm: stat.slice(stat.indexOf("(") + 1, close), state, ppid: Number(ppid) };
}

/** Children of `pid` (from /proc), as [pid, comm]. */
export function childrenOf(pid: number): [number, string][] {
  const kids: [number, string][] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat?.ppid === pid) kids.push([Number(entry), stat.comm]);
  }
  return kids;
}
