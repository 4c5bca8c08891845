import { posix } from "node:path";
import { parseProcCgroup } from "../cgroup/cgroup-dirs.js";
import type { MountInfo } from "../sys/mountinfo.js";

/** The v1 hierarchies runc 1.1's cgroupfs driver puts a container in (libcontainer/cgroups/fs). */
const RUNC_V1_SUBSYSTEMS = new Set([
  "cpuset",
  "devices",
  "memory",
  "cpu",
  "cpuacct",
  "pids",
  "blkio",
  "hugetlb",
  "net_cls",
  "net_prio",
  "perf_event",
  "freezer",
  "rdma",
  "name=systemd",
  "misc",
]);

/**
 * runc's CleanPath: "" stays "", an absolute path is normalised, a relative one is normalised without
 * climbing above its start ("../../x" is "x"; "." or "a/.." is ".").
 */
export function runcCleanPath(path: string): string {
  if (path === "") return "";
  if (path.startsWith("/")) return posix.resolve(path);
  return posix.relative("/", posix.resolve("/", path)) || ".";
}

const runcSubsystems = (m: MountInfo) => m.superOptions.split(",").filter((o) => RUNC_V1_SUBSYSTEMS.has(o));

/**
 * The cgroup directories runc 1.1 (cgroupfs driver) makes for container `id` whose spec has
 * `cgroupsPath` ("" means the id): an absolute path lies below each hierarchy's mount point; a relative
 * one below runc's own cgroup in each v1 hierarchy and in the v2 tree of a hybrid layout, or below the
 * parent of its own cgroup when the guest runs cgroup v2 alone (runc's fs2 driver). runc inherits the
 * agent's cgroups: `ownCgroup` is the agent's /proc/self/cgroup, `mounts` its mountinfo. A directory
 * that would be the agent's own cgroup or one above it is never the container's and is left out. Pure.
 */
export function runcCgroupDirs(
  id: string,
  cgroupsPath: string,
  ownCgroup: string,
  mounts: readonly MountInfo[],
): string[] {
  const inner = runcCleanPath(cgroupsPath) || id;
  if (inner === "." || inner === "/") return [];
  const own = parseProcCgroup(ownCgroup);
  const v1 = mounts.filter((m) => m.fsType === "cgroup" && runcSubsystems(m).length > 0);
  const v2 = mounts.find((m) => m.fsType === "cgroup2");
  const dirs = new Set<string>();
  const seen = new Set<string>();
  const add = (m: MountInfo, ownPath: string | undefined, belowParent: boolean) => {
    const device = `${m.major}:${m.minor}`;
    if (seen.has(device)) return;
    seen.add(device);
    let path = inner;
    if (!inner.startsWith("/")) {
      if (ownPath === undefined) return;
      path = posix.join(belowParent ? posix.dirname(ownPath) : ownPath, inner);
      if (ownPath === path || ownPath.startsWith(path === "/" ? "/" : `${path}/`)) return;
    }
    const dir = dirInMount(m, path, !inner.startsWith("/"));
    if (dir !== undefined) dirs.add(dir);
  };
  for (const m of v1) {
    const names = runcSubsystems(m);
    add(m, own.find((l) => l.hierarchy !== 0 && l.controllers.some((c) => names.includes(c)))?.path, false);
  }
  if (v2) add(v2, own.find((l) => l.hierarchy === 0)?.path, v1.length === 0);
  return [...dirs];
}

/**
 * Where cgroup `path` of a hierarchy is seen under mount `m`. runc puts an absolute cgroups path under the
 * mount point as it is; a path found from its own cgroup is mapped through the mount's root, as runc does.
 */
function dirInMount(m: MountInfo, path: string, throughRoot: boolean): string | undefined {
  if (!throughRoot || m.root === "/") return posix.join(m.mountPoint, path);
  if (path === m.root) return m.mountPoint;
  if (path.startsWith(`${m.root}/`)) return posix.join(m.mountPoint, path.slice(m.root.length));
  return undefined;
}
