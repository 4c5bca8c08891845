import { readFile, writeFile } from "node:fs/promises";
import { posix } from "node:path";
import { AgentError, Code } from "../errors.js";
import { type MountInfo, parseMountinfo } from "./mountinfo.js";

/** One line of /proc/<pid>/cgroup: a v1 hierarchy and its controllers, or (hierarchy 0, none) v2's. */
export interface ProcCgroup {
  hierarchy: number;
  controllers: string[];
  path: string;
}

/** A process's cgroup directory for one controller, and which cgroup version runs it there. */
export interface CgroupDir {
  dir: string;
  version: 1 | 2;
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
 * Where the cgroup of a controller is for a process in `cgroups`, through the cgroup mounts: its v1
 * hierarchy when one has controller `v1` (e.g. "blkio"), else the v2 hierarchy (where the controller,
 * e.g. "io", may or may not be enabled). A mount of part of a hierarchy (root other than "/") holds the
 * paths below that root.
 */
export function cgroupDirIn(
  cgroups: readonly ProcCgroup[],
  mounts: readonly MountInfo[],
  v1: string,
): CgroupDir | undefined {
  const entry = cgroups.find((c) => c.controllers.includes(v1));
  if (entry) {
    const mount = mounts.find((m) => m.fsType === "cgroup" && m.superOptions.split(",").includes(v1));
    const dir = mount && below(mount, entry.path);
    return dir === undefined ? undefined : { dir, version: 1 };
  }
  const unified = cgroups.find((c) => c.hierarchy === 0 && c.controllers.length === 0);
  const mount = mounts.find((m) => m.fsType === "cgroup2");
  const dir = unified && mount && below(mount, unified.path);
  return dir === undefined ? undefined : { dir, version: 2 };
}

function below(mount: MountInfo, path: string): string | undefined {
  const rel = posix.relative(mount.root, path);
  if (rel === ".." || rel.startsWith("../")) return undefined;
  return posix.join(mount.mountPoint, rel);
}

/**
 * The directory of process `pid`'s cgroup for a controller named `v1` in cgroup v1 and `v2` in v2
 * ("blkio" and "io"). FAILED_PRECONDITION when the guest runs the controller for it in neither.
 */
export async function cgroupDir(pid: number, v1: string, v2 = v1): Promise<CgroupDir> {
  const [cgroups, mounts] = await Promise.all([
    readFile(`/proc/${pid}/cgroup`, "utf8").then(parseProcCgroup),
    readFile("/proc/self/mountinfo", "utf8").then(parseMountinfo),
  ]);
  const found = cgroupDirIn(cgroups, mounts, v1);
  const enabled =
    found?.version === 2
      ? (await readFile(`${found.dir}/cgroup.controllers`, "utf8").catch(() => "")).split(/\s+/).includes(v2)
      : found !== undefined;
  if (!found || !enabled) {
    throw new AgentError(
      Code.FAILED_PRECONDITION,
      `process ${pid} has no ${v1} (v1) or ${v2} (v2) cgroup: the guest does not run that controller for it`,
    );
  }
  return found;
}

/** Writes each line, in order and one write each, to its file in cgroup directory `dir`. */
export async function writeCgroupFiles(
  dir: string,
  writes: Iterable<{ file: string; line: string }>,
): Promise<void> {
  for (const { file, line } of writes) {
    await writeFile(`${dir}/${file}`, line).catch((error: unknown) => {
      const e = AgentError.from(error);
      throw new AgentError(e.code, `cannot write ${JSON.stringify(line)} to ${dir}/${file}: ${e.message}`, {
        cause: error,
      });
    });
  }
}
