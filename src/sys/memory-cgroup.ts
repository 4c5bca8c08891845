import { access, readFile } from "node:fs/promises";
import { posix } from "node:path";
import { type MountInfo, parseMountinfo } from "./mountinfo.js";

/** A process's memory cgroup: the directory of its control files, and the cgroup version that has them. */
export interface MemoryCgroup {
  version: 1 | 2;
  dir: string;
}

/** One line of /proc/<pid>/cgroup: `hierarchy-id:controllers:path` (v2: `0::path`). */
interface CgroupLine {
  controllers: string[];
  path: string;
}

function parseProcCgroup(text: string): CgroupLine[] {
  const lines: CgroupLine[] = [];
  for (const line of text.split("\n")) {
    const first = line.indexOf(":");
    const second = line.indexOf(":", first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    lines.push({ controllers: controllers ? controllers.split(",") : [], path: line.slice(second + 1) });
  }
  return lines;
}

/** Where cgroup `path` appears under `mount`, or undefined when the mount does not show it. */
function dirUnder(mount: MountInfo, path: string): string | undefined {
  const inside = posix.relative(mount.root, path);
  if (inside.startsWith("..") || posix.isAbsolute(inside)) return undefined;
  return posix.join(mount.mountPoint, inside);
}

/**
 * The memory cgroup named in /proc/<pid>/cgroup text, found among mounts: the v1 hierarchy that has the
 * memory controller when there is one (also on a "hybrid" host, whose v2 tree then has no controllers),
 * else the v2 tree. Undefined when neither is mounted where this process can see it.
 */
export function memoryCgroupFrom(procCgroup: string, mounts: readonly MountInfo[]): MemoryCgroup | undefined {
  const lines = parseProcCgroup(procCgroup);
  const v1 = lines.find((l) => l.controllers.includes("memory"));
  if (v1) {
    for (const m of mounts) {
      if (m.fsType !== "cgroup" || !m.superOptions.split(",").includes("memory")) continue;
      const dir = dirUnder(m, v1.path);
      if (dir) return { version: 1, dir };
    }
  }
  const v2 = lines.find((l) => l.controllers.length === 0);
  if (v2) {
    for (const m of mounts) {
      if (m.fsType !== "cgroup2") continue;
      const dir = dirUnder(m, v2.path);
      if (dir) return { version: 2, dir };
    }
  }
  return undefined;
}

/**
 * The memory cgroup of process `pid`, as this process's mounts show it; undefined when there is none (no
 * memory controller, or a v2 tree where memory is not enabled).
 */
export async function memoryCgroupOf(pid: number): Promise<MemoryCgroup | undefined> {
  const [procCgroup, mountinfo] = await Promise.all([
    readFile(`/proc/${pid}/cgroup`, "utf8"),
    readFile("/proc/self/mountinfo", "utf8"),
  ]);
  const cgroup = memoryCgroupFrom(procCgroup, parseMountinfo(mountinfo));
  if (cgroup?.version === 2) {
    const enabled = await access(`${cgroup.dir}/memory.events`).then(
      () => true,
      () => false,
    );
    if (!enabled) return undefined;
  }
  return cgroup;
}

/**
 * The `oom_kill` count of cgroup v2 `memory.events` (flat-keyed, `key value` lines): how many processes the
 * OOM killer has killed in the cgroup; 0 when the file has no such line.
 */
export function oomKillCount(text: string): number {
  for (const line of text.split("\n")) {
    const [key, value] = line.trim().split(/\s+/);
    if (key === "oom_kill" && value !== undefined && /^\d+$/.test(value)) return Number(value);
  }
  return 0;
}
