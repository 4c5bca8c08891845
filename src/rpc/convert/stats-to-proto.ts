import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ContainerStats } from "../../container/container-stats.js";
import type { StatsContainerResponseSchema } from "../../protocol/gen/agent_pb.js";

/**
 * The StatsContainer reply for a container's statistics. Pure. Pids, blkio, hugetlb, throttling,
 * memory data and interface counters already have the wire's field names.
 */
export function statsResponseFromStats({
  cgroup,
  network,
}: ContainerStats): MessageInitShape<typeof StatsContainerResponseSchema> {
  const { usage, throttling } = cgroup.cpu;
  const { memory } = cgroup;
  return {
    cgroupStats: {
      cpuStats: {
        cpuUsage: {
          totalUsage: usage.total,
          percpuUsage: usage.perCpu,
          usageInKernelmode: usage.kernel,
          usageInUsermode: usage.user,
        },
        throttlingData: throttling,
      },
      memoryStats: {
        cache: memory.cache,
        usage: memory.usage,
        swapUsage: memory.swap,
        kernelUsage: memory.kernel,
        useHierarchy: memory.useHierarchy,
        stats: memory.stats,
      },
      pidsStats: cgroup.pids,
      blkioStats: cgroup.blkio,
      hugetlbStats: cgroup.hugetlb,
    },
    networkStats: network,
  };
}
