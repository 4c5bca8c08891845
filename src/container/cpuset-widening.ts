import { readFile } from "node:fs/promises";
import { type CgroupDirs, cgroupAncestors, controllerDir } from "../cgroup/cgroup-dirs.js";
import { enabledControllerDir, findCgroupDirs, writeCgroupFiles } from "../cgroup/cgroup-fs.js";
import { AgentError, Code } from "../errors.js";
import { formatCpuList, parseCpuList } from "../sys/cpus.js";
import { hasErrno } from "../sys/errno.js";
import { parseMountinfo } from "../sys/mountinfo.js";
import { readKernelFile } from "../sys/read-kernel-file.js";

/*
 * OnlineCPUMem's last step: once more CPUs are online, the containers' cpusets (and those of the cgroups
 * above them, which bound them on cgroup v1) widen to them. An empty cpuset.cpus (cgroup v2's "the
 * parent's") already follows the guest's CPUs and is left alone.
 */

/**
 * A container's cpuset once `online` CPUs are: those it asked for that are online, or every online CPU when
 * none of them is (as UpdateContainer does); undefined when it asked for none.
 */
export function widenedCpuset(requested: string | undefined, online: string): string | undefined {
  if (!requested) return undefined;
  const onlineSet = new Set(parseCpuList(online));
  return (
    formatCpuList(parseCpuList(requested).filter((n) => onlineSet.has(n))) || formatCpuList([...onlineSet])
  );
}

/** The cpuset.cpus of a cgroup, normalised; undefined when it has none (no cpuset controller there). */
async function cpusOf(dir: string): Promise<string | undefined> {
  try {
    return formatCpuList(parseCpuList(await readKernelFile(`${dir}/cpuset.cpus`, 64 * 1024)));
  } catch (error) {
    if (hasErrno(error, "ENOENT")) return undefined;
    throw AgentError.wrap(error, `cannot read ${dir}/cpuset.cpus`);
  }
}

/** Writes `cpus` to a cgroup's cpuset.cpus unless it holds them already, or (`unlessEmpty`) holds none. */
async function setCpus(dir: string, cpus: string, unlessEmpty: boolean): Promise<void> {
  const current = await cpusOf(dir);
  if (current === undefined || current === cpus || (unlessEmpty && current === "")) return;
  await writeCgroupFiles(dir, [{ file: "cpuset.cpus", line: cpus }]);
}

/** The directory of a container's cpuset, when the guest runs that controller for it. */
async function cpusetDir(dirs: CgroupDirs): Promise<string | undefined> {
  return (await enabledControllerDir(dirs, "cpuset"))?.dir;
}

/**
 * Widens one container's own cpuset: to {@link widenedCpuset} of the cpuset it asked for, or, when it asked
 * for none but holds one (cgroup v1, where runc copied its parent's at creation, when fewer CPUs were online),
 * to every online CPU. Kata leaves the latter narrow for good.
 */
export async function widenContainerCpuset(
  dirs: CgroupDirs,
  requested: string | undefined,
  online: string,
): Promise<void> {
  const dir = await cpusetDir(dirs);
  if (dir === undefined) return;
  const wanted = widenedCpuset(requested, online);
  await setCpus(dir, wanted ?? formatCpuList(parseCpuList(online)), wanted === undefined);
}

/** A container as the widening sees it: its cgroups, and the widening of its own cpuset. */
export interface CpusetHolder {
  readonly cgroup: CgroupDirs;
  widenCpuset(online: string): Promise<void>;
}

/**
 * Widens the cpusets of the sandbox's cgroups to the `online` CPUs: first those above the containers', parents
 * first (on cgroup v1 a child's cpuset cannot widen past its parent's), from below the hierarchy's root
 * down, then each container's own (see widenContainerCpuset). A cgroup the agent itself is in, or one above
 * it, is not the sandbox's and is left alone (in a guest the agent is in the root). Every cgroup is tried;
 * the error names each that failed.
 */
export async function widenCpusets(
  containers: readonly CpusetHolder[],
  online: string,
  proc = "/proc",
): Promise<void> {
  if (containers.length === 0) return;
  const [mountinfo, agent, dirs] = await Promise.all([
    readFile(`${proc}/self/mountinfo`, "utf8"),
    findCgroupDirs(process.pid, proc),
    Promise.all(containers.map((c) => cpusetDir(c.cgroup))),
  ]).catch((error: unknown) => {
    throw AgentError.wrap(error, "cannot find the cgroups whose cpusets to widen");
  });
  const mounts = parseMountinfo(mountinfo);
  const own = controllerDir(agent, "cpuset")?.dir;
  const holdsAgent = (dir: string) => own !== undefined && (own === dir || own.startsWith(`${dir}/`));
  const parents = new Set(
    dirs
      .flatMap((dir) => (dir === undefined ? [] : cgroupAncestors(dir, mounts)))
      .filter((d) => !holdsAgent(d)),
  );
  const cpus = formatCpuList(parseCpuList(online));
  const failures: unknown[] = [];
  for (const dir of [...parents].sort((a, b) => a.split("/").length - b.split("/").length)) {
    await setCpus(dir, cpus, true).catch((error: unknown) => failures.push(error));
  }
  const results = await Promise.allSettled(containers.map((c) => c.widenCpuset(online)));
  for (const r of results) if (r.status === "rejected") failures.push(r.reason);
  if (failures.length > 0) {
    const messages = failures.map((f) => AgentError.from(f).message).join("; ");
    throw new AgentError(Code.INTERNAL, `cannot widen the cpusets to the online CPUs ${cpus}: ${messages}`, {
      cause: new AggregateError(failures),
    });
  }
}
