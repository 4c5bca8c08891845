import { readdir, readFile } from "node:fs/promises";
import { AgentError, Code } from "../errors.js";
import { parseMountinfo } from "../sys/mountinfo.js";
import { readKernelFile } from "../sys/read-kernel-file.js";
import { type CgroupDirs, cgroupDirsOf } from "./cgroup-dirs.js";
import type { CgroupStats } from "./cgroup-stats.js";
import { isV1StatFile, statsFromV1 } from "./stats-v1.js";
import { isV2StatFile, statsFromV2 } from "./stats-v2.js";

/*
 * The edge of the cgroup module: the only code here that reads /proc and the cgroup file system. The
 * parsing is in the pure modules it calls.
 */

/**
 * The cgroup directories of process `pid`, from /proc/<pid>/cgroup and the agent's own mounts
 * (/proc/self/mountinfo: the agent may run in a mount namespace of its own). FAILED_PRECONDITION when
 * none of its cgroups is mounted.
 */
export async function findCgroupDirs(pid: number, proc = "/proc"): Promise<CgroupDirs> {
  const [cgroups, mountinfo] = await Promise.all([
    readFile(`${proc}/${pid}/cgroup`, "utf8"),
    readFile(`${proc}/self/mountinfo`, "utf8"),
  ]).catch((error: unknown) => {
    const e = AgentError.from(error);
    throw new AgentError(e.code, `cannot find the cgroups of process ${pid}: ${e.message}`, { cause: error });
  });
  const dirs = cgroupDirsOf(cgroups, parseMountinfo(mountinfo));
  if (!dirs) {
    throw new AgentError(
      Code.FAILED_PRECONDITION,
      `none of the cgroups of process ${pid} is mounted in the agent's mount namespace`,
    );
  }
  return dirs;
}

/**
 * The statistics of the cgroups in `dirs`. A file that is missing (a controller not enabled, no swap
 * accounting, no huge pages) counts as zeros; a directory that is gone is NOT_FOUND.
 */
export async function readCgroupStats(dirs: CgroupDirs): Promise<CgroupStats> {
  if (dirs.version === 2) return statsFromV2(await readStatFiles(dirs.dir, isV2StatFile));
  // Controllers mounted together (cpu,cpuacct) share one directory.
  const maps = await Promise.all([...new Set(dirs.dirs.values())].map((d) => readStatFiles(d, isV1StatFile)));
  return statsFromV1(new Map(maps.flatMap((m) => [...m])));
}

/** The files of `dir` that `wanted` names, read in parallel. */
async function readStatFiles(dir: string, wanted: (name: string) => boolean): Promise<Map<string, string>> {
  try {
    const names = (await readdir(dir)).filter(wanted);
    const texts = await Promise.all(names.map((name) => readKernelFile(`${dir}/${name}`)));
    return new Map(names.map((name, i) => [name, texts[i] ?? ""]));
  } catch (error) {
    const e = AgentError.from(error);
    throw new AgentError(e.code, `cannot read the cgroup statistics in ${dir}: ${e.message}`, {
      cause: error,
    });
  }
}
