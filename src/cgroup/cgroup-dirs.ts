import type { MountInfo } from "../sys/mountinfo.js";

/** The v1 controllers whose files the statistics read. */
const STAT_CONTROLLERS = ["cpu", "cpuacct", "memory", "pids", "blkio", "hugetlb"] as const;
export type StatController = (typeof STAT_CONTROLLERS)[number];

/**
 * Where a process's cgroups are in the file system: one directory per v1 controller (those that are
 * mounted), or its one cgroup v2 directory.
 */
export type CgroupDirs =
  | { version: 1; dirs: ReadonlyMap<StatController, string> }
  | { version: 2; dir: string };

/**
 * The directories of a process's cgroups, from its /proc/<pid>/cgroup ("hierarchy:controllers:path"
 * lines) and the mounts of the reader's mount namespace: a cgroup's directory is the mount point of its
 * hierarchy plus the cgroup's path below the mount's root. As runc decides, any v1 controller mounted
 * makes it v1 (the "hybrid" layout, whose v2 tree holds no controllers); only without one is the v2
 * cgroup used. Undefined when none of them is mounted. Pure.
 */
export function cgroupDirsOf(procCgroup: string, mounts: readonly MountInfo[]): CgroupDirs | undefined {
  const v1 = new Map<StatController, string>();
  let v2: string | undefined;
  for (const line of procCgroup.split("\n")) {
    const first = line.indexOf(":");
    const second = line.indexOf(":", first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    if (controllers === "") {
      v2 ??= dirOf(path, mounts, (m) => m.fsType === "cgroup2");
      continue;
    }
    for (const name of controllers.split(",")) {
      const controller = STAT_CONTROLLERS.find((c) => c === name);
      if (!controller || v1.has(controller)) continue;
      const dir = dirOf(
        path,
        mounts,
        (m) => m.fsType === "cgroup" && m.superOptions.split(",").includes(name),
      );
      if (dir) v1.set(controller, dir);
    }
  }
  if (v1.size > 0) return { version: 1, dirs: v1 };
  return v2 === undefined ? undefined : { version: 2, dir: v2 };
}

/** The directory of cgroup `path` under the first matching mount whose root holds it. */
function dirOf(path: string, mounts: readonly MountInfo[], matches: (m: MountInfo) => boolean) {
  for (const m of mounts) {
    if (!matches(m)) continue;
    if (m.root === "/") return path === "/" ? m.mountPoint : `${m.mountPoint}${path}`;
    if (path === m.root) return m.mountPoint;
    if (path.startsWith(`${m.root}/`)) return `${m.mountPoint}${path.slice(m.root.length)}`;
  }
  return undefined;
}
