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

/** Children of `pid` (from /proc), as [pid, comm]. */
export function childrenOf(pid: number): [number, string][] {
  const kids: [number, string][] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      if (ppid === pid) kids.push([Number(entry), stat.slice(stat.indexOf("(") + 1, close)]);
    } catch {
      // gone while we looked
    }
  }
  return kids;
}
