import { readdir, readFile, writeFile } from "node:fs/promises";
import { AgentError, Code } from "../errors.js";
import { mountTable } from "../sys/mount-table.js";
import type { MountInfo } from "../sys/mountinfo.js";
import { readKernelFile, readKernelFileSync } from "../sys/read-kernel-file.js";
import { type CgroupDir, type CgroupDirs, cgroupDirsOf, controllerDir } from "./cgroup-dirs.js";
import type { CgroupStats } from "./cgroup-stats.js";
import { isV1StatFile, statsFromV1 } from "./stats-v1.js";
import { isV2StatFile, statsFromV2 } from "./stats-v2.js";

/*
 * The edge of the cgroup module: the only code here that reads /proc or reads and writes the cgroup file
 * system. The parsing is in the pure modules it calls.
 */

/** The v1 controllers whose files the statistics read. */
const STAT_CONTROLLERS = ["cpu", "cpuacct", "memory", "pids", "blkio", "hugetlb"];

/**
 * The cgroup directories of process `pid`, from /proc/<pid>/cgroup and the agent's own mounts
 * (/proc/self/mountinfo: the agent may run in a mount namespace of its own). FAILED_PRECONDITION when
 * none of its cgroups is mounted. /proc/<pid>/cgroup is read synchronously (see readKernelFileSync).
 */
export async function findCgroupDirs(pid: number, proc = "/proc"): Promise<CgroupDirs> {
  let cgroups: string;
  let mounts: readonly MountInfo[];
  try {
    cgroups = readKernelFileSync(`${proc}/${pid}/cgroup`);
    mounts = await mountTable(`${proc}/self/mountinfo`).mounts();
  } catch (error) {
    throw AgentError.wrap(error, `cannot find the cgroups of process ${pid}`);
  }
  const dirs = cgroupDirsOf(cgroups, mounts);
  if (!dirs) {
    throw new AgentError(
      Code.FAILED_PRECONDITION,
      `none of the cgroups of process ${pid} is mounted in the agent's mount namespace`,
    );
  }
  return dirs;
}

/**
 * The directory of a controller named `v1` in cgroup v1 and `v2` in v2 ("blkio" and "io") if the guest
 * runs it there: its mounted v1 hierarchy, or the v2 directory when its cgroup.controllers lists it.
 */
export async function enabledControllerDir(
  dirs: CgroupDirs,
  v1: string,
  v2 = v1,
): Promise<CgroupDir | undefined> {
  const found = controllerDir(dirs, v1);
  if (found?.version !== 2) return found;
  const enabled = await readFile(`${found.dir}/cgroup.controllers`, "utf8").catch(() => "");
  return enabled.split(/\s+/).includes(v2) ? found : undefined;
}

/** Writes each line, in order and one write each, to its file in cgroup directory `dir`. */
export async function writeCgroupFiles(
  dir: string,
  writes: Iterable<{ file: string; line: string }>,
): Promise<void> {
  for (const { file, line } of writes) {
    await writeFile(`${dir}/${file}`, line).catch((error: unknown) => {
      throw AgentError.wrap(error, `cannot write ${JSON.stringify(line)} to ${dir}/${file}`);
    });
  }
}

/**
 * The statistics of the cgroups in `dirs`: v1 when any controller they read is mounted as v1 (the
 * "hybrid" layout, whose v2 tree holds no controllers, is v1 as runc sees it), else v2. A file that is
 * missing (a controller not enabled, no swap accounting, no huge pages) counts as zeros; a directory that
 * is gone is NOT_FOUND.
 */
export async function readCgroupStats(dirs: CgroupDirs): Promise<CgroupStats> {
  // Controllers mounted together (cpu,cpuacct) share one directory.
  const v1 = new Set(STAT_CONTROLLERS.flatMap((c) => dirs.v1.get(c) ?? []));
  if (v1.size > 0) {
    const maps = await Promise.all([...v1].map((d) => readStatFiles(d, isV1StatFile)));
    return statsFromV1(new Map(maps.flatMap((m) => [...m])));
  }
  if (dirs.v2 === undefined) {
    throw new AgentError(
      Code.FAILED_PRECONDITION,
      `no cgroup to read statistics from: neither cgroup v2 nor any of ${STAT_CONTROLLERS.join(", ")} is mounted`,
    );
  }
  return statsFromV2(await readStatFiles(dirs.v2, isV2StatFile));
}

/** The files of `dir` that `wanted` names, read in parallel. */
async function readStatFiles(dir: string, wanted: (name: string) => boolean): Promise<Map<string, string>> {
  try {
    const names = (await readdir(dir)).filter(wanted);
    const texts = await Promise.all(names.map((name) => readKernelFile(`${dir}/${name}`)));
    return new Map(names.map((name, i) => [name, texts[i] ?? ""]));
  } catch (error) {
    throw AgentError.wrap(error, `cannot read the cgroup statistics in ${dir}`);
  }
}
