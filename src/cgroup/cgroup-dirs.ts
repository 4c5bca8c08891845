import type { MountInfo } from "../sys/mountinfo.js";

/** One line of /proc/<pid>/cgroup: a v1 hierarchy and its controllers, or (hierarchy 0, none) v2's. */
export interface ProcCgroup {
  hierarchy: number;
  controllers: string[];
  path: string;
}

/**
 * Where a process's cgroups are in the file system: the directory of each of its v1 controllers that is
 * mounted, by controller name as /proc/<pid>/cgroup gives it ("memory", "name=systemd"; controllers
 * mounted together, like cpu,cpuacct, share a directory), and its cgroup v2 directory if v2 is mounted.
 */
export interface CgroupDirs {
  v1: ReadonlyMap<string, string>;
  v2: string | undefined;
}

/** Each directory of `cgroup` once (controllers mounted together share one). */
export const eachCgroupDir = (cgroup: CgroupDirs): string[] => [
  ...new Set([...cgroup.v1.values(), ...(cgroup.v2 ? [cgroup.v2] : [])]),
];

/** One controller's cgroup directory, and which cgroup version runs the controller there. */
export interface CgroupDir {
  version: 1 | 2;
  dir: string;
}

/** Parses /proc/<pid>/cgroup (cgroups(7)); malformed lines are skipped. */
export function parseProcCgroup(text: string): ProcCgroup[] {
  const entries: ProcCgroup[] = [];
  for (const line of text.split("\n")) {
    const match = /^(\d+):([^:]*):(\/.*)$/.exec(line);
    if (!match) continue;
    const [, hierarchy = "", controllers = "", path = ""] = match;
    entries.push({ hierarchy: Number(hierarchy), controllers: controllers.split(",").filter(Boolean), path });
  }
  return entries;
}

/**
 * The directories of a process's cgroups, from its /proc/<pid>/cgroup text and the mounts of the reader's
 * mount namespace: a cgroup's directory is the mount point of its hierarchy plus the cgroup's path below
 * the mount's root (a mount of a subtree shows only the paths below its root). Undefined when none of
 * them is mounted. Pure.
 */
export function cgroupDirsOf(procCgroup: string, mounts: readonly MountInfo[]): CgroupDirs | undefined {
  const v1 = new Map<string, string>();
  let v2: string | undefined;
  for (const { hierarchy, controllers, path } of parseProcCgroup(procCgroup)) {
    if (hierarchy === 0) {
      v2 ??= dirOf(path, mounts, (m) => m.fsType === "cgroup2");
      continue;
    }
    for (const name of controllers) {
      if (v1.has(name)) continue;
      const dir = dirOf(
        path,
        mounts,
        (m) => m.fsType === "cgroup" && m.superOptions.split(",").includes(name),
      );
      if (dir !== undefined) v1.set(name, dir);
    }
  }
  return v1.size === 0 && v2 === undefined ? undefined : { v1, v2 };
}

/**
 * The directory of a controller (`v1`, e.g. "blkio" or "memory"): its v1 hierarchy's when that is
 * mounted, else the v2 directory, where the controller (named "io" for blkio) may or may not be enabled.
 */
export function controllerDir(dirs: CgroupDirs, v1: string): CgroupDir | undefined {
  const dir = dirs.v1.get(v1);
  if (dir !== undefined) return { version: 1, dir };
  return dirs.v2 === undefined ? undefined : { version: 2, dir: dirs.v2 };
}

/**
 * The directory of cgroup `path` under the first matching mount whose root holds it. A path with ".."
 * lies outside the reader's cgroup namespace, where no mount of it shows it.
 */
function dirOf(path: string, mounts: readonly MountInfo[], matches: (m: MountInfo) => boolean) {
  if (path.split("/").includes("..")) return undefined;
  for (const m of mounts) {
    if (!matches(m)) continue;
    if (m.root === "/") return path === "/" ? m.mountPoint : `${m.mountPoint}${path}`;
    if (path === m.root) return m.mountPoint;
    if (path.startsWith(`${m.root}/`)) return `${m.mountPoint}${path.slice(m.root.length)}`;
  }
  return undefined;
}

/**
 * The cgroups above cgroup directory `dir` and below the root of its hierarchy (the cgroup mount whose
 * mount point holds it, the deepest if several do), parents first; neither the root nor `dir` itself.
 * None when no cgroup mount holds `dir`. Pure.
 */
export function cgroupAncestors(dir: string, mounts: readonly MountInfo[]): string[] {
  let root: string | undefined;
  for (const m of mounts) {
    if (m.fsType !== "cgroup" && m.fsType !== "cgroup2") continue;
    const holds = dir === m.mountPoint || dir.startsWith(m.mountPoint === "/" ? "/" : `${m.mountPoint}/`);
    if (holds && (root === undefined || m.mountPoint.length > root.length)) root = m.mountPoint;
  }
  if (root === undefined || dir === root) return [];
  const below = dir.slice(root.length).split("/").filter(Boolean);
  return below.slice(0, -1).map((_, i) => `${root}/${below.slice(0, i + 1).join("/")}`);
}
