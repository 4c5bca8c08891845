import type { CgroupDirs } from "../cgroup/cgroup-dirs.js";
import { readCgroupStats } from "../cgroup/cgroup-fs.js";
import type { CgroupStats } from "../cgroup/cgroup-stats.js";
import { AgentError, Code } from "../errors.js";
import { type InterfaceStats, readNetDev } from "../sys/net-dev.js";

/** What StatsContainer answers: the container's cgroup statistics and its network interfaces' counters. */
export interface ContainerStats {
  cgroup: CgroupStats;
  network: InterfaceStats[];
}

/**
 * Reads a container's statistics. The network counters are those of every interface in the network
 * namespace of the container's init (`initPid`; undefined once it has exited: no interfaces), loopback
 * left out: in a Kata guest that namespace is the pod's, whose interfaces the runtime set up, and what
 * goes over `lo` never leaves the pod (runc's libcontainer does not report it either).
 */
export async function readContainerStats(
  cgroup: CgroupDirs,
  initPid: number | undefined,
): Promise<ContainerStats> {
  const [stats, network] = await Promise.all([
    readCgroupStats(cgroup),
    initPid === undefined ? [] : interfacesOf(initPid),
  ]);
  return { cgroup: stats, network };
}

async function interfacesOf(pid: number): Promise<InterfaceStats[]> {
  try {
    return (await readNetDev(pid)).filter((i) => i.name !== "lo");
  } catch (error) {
    // The init has just exited (a zombie has no network namespace left).
    if (AgentError.from(error).code === Code.NOT_FOUND) return [];
    throw error;
  }
}
