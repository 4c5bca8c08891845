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

/**
 * cgroup v1/v2 directories named `name` anywhere in the first levels of /sys/fs/cgroup: runc's default
 * path lies right under a controller's root, or under the agent's own cgroup where that is not the root
 * (as memory/<scope>/<name> on a host that puts the test runner in a memory cgroup).
 */
export function cgroupDirs(name: string, depth = 4): string[] {
  const found: string[] = [];
  const walk = (dir: string, left: number) => {
    let children: string[];
    try {
      children = readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
    } catch {
      return;
    }
    for (const child of children) {
      const path = `${dir}/${child}`;
      if (child === name) found.push(path);
      else if (left > 0) walk(path, left - 1);
    }
  };
  walk("/sys/fs/cgroup", depth);
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
