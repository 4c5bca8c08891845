import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { emptyBlkio } from "../../cgroup/cgroup-stats.js";
import type { ContainerStats } from "../../container/container-stats.js";
import { StatsContainerResponseSchema } from "../../protocol/gen/agent_pb.js";
import { statsResponseFromStats } from "./stats-to-proto.js";

const data = (base: bigint) => ({ usage: base, maxUsage: base + 1n, failcnt: base + 2n, limit: base + 3n });

const STATS: ContainerStats = {
  cgroup: {
    cpu: {
      usage: { total: 10n, perCpu: [4n, 6n], kernel: 3n, user: 7n },
      throttling: { periods: 20n, throttledPeriods: 21n, throttledTime: 22n },
    },
    memory: {
      cache: 30n,
      usage: data(100n),
      swap: data(200n),
      kernel: data(300n),
      useHierarchy: true,
      stats: { cache: 30n, rss: 31n },
    },
    pids: { current: 40n, limit: 41n },
    blkio: { ...emptyBlkio(), sectorsRecursive: [{ major: 8n, minor: 0n, op: "", value: 50n }] },
    hugetlb: { "2MB": { usage: 60n, maxUsage: 61n, failcnt: 62n } },
  },
  network: [
    {
      name: "eth0",
      rxBytes: 70n,
      rxPackets: 71n,
      rxErrors: 72n,
      rxDropped: 73n,
      txBytes: 74n,
      txPackets: 75n,
      txErrors: 76n,
      txDropped: 77n,
    },
  ],
};

describe("statsResponseFromStats()", () => {
  it("puts every figure in its field of the wire message", () => {
    const wire = toBinary(
      StatsContainerResponseSchema,
      create(StatsContainerResponseSchema, statsResponseFromStats(STATS)),
    );
    const reply = fromBinary(StatsContainerResponseSchema, wire);
    const { cpuStats, memoryStats, pidsStats, blkioStats, hugetlbStats } = reply.cgroupStats ?? {};
    assert.equal(cpuStats?.cpuUsage?.totalUsage, 10n);
    assert.deepEqual(cpuStats?.cpuUsage?.percpuUsage, [4n, 6n]);
    assert.equal(cpuStats?.cpuUsage?.usageInKernelmode, 3n);
    assert.equal(cpuStats?.cpuUsage?.usageInUsermode, 7n);
    assert.equal(cpuStats?.throttlingData?.throttledTime, 22n);
    assert.equal(memoryStats?.cache, 30n);
    assert.equal(memoryStats?.usage?.limit, 103n);
    assert.equal(memoryStats?.swapUsage?.maxUsage, 201n);
    assert.equal(memoryStats?.kernelUsage?.failcnt, 302n);
    assert.equal(memoryStats?.useHierarchy, true);
    assert.deepEqual(memoryStats?.stats, { cache: 30n, rss: 31n });
    assert.equal(pidsStats?.limit, 41n);
    assert.equal(blkioStats?.sectorsRecursive[0]?.value, 50n);
    assert.deepEqual(blkioStats?.ioServiceBytesRecursive, []);
    assert.equal(hugetlbStats?.["2MB"]?.failcnt, 62n);
    assert.equal(reply.networkStats[0]?.name, "eth0");
    assert.equal(reply.networkStats[0]?.rxDropped, 73n);
    assert.equal(reply.networkStats[0]?.txDropped, 77n);
  });
});
