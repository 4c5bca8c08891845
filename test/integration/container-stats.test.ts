import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { describe, it } from "node:test";
import { Code } from "../../src/protocol/ttrpc/code.js";
import { failsWith, sandboxFixture } from "../support/container-fixture.js";
import { exec, inContainer, sleep, T, waitFor } from "../support/process-helpers.js";

const TEST = { timeout: 60_000 };
const MiB = 1n << 20n;
const MEMORY_LIMIT = 128n * MiB;
const PIDS_LIMIT = 64n;
/** This machine's cgroups: v1 keeps per-CPU usage, v2 does not. */
const V1 = /^\d+:[^:]*\bmemory\b/m.test(readFileSync("/proc/self/cgroup", "utf8"));
/** A shell loop that burns a few hundred milliseconds of CPU. */
const SPIN = "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done";

describe("StatsContainer", () => {
  const f = sandboxFixture("stats");
  /** The test fixture with a spec that sets a memory and a pids limit. */
  const limited = {
    get rpc() {
      return f.rpc;
    },
    spec(args: string[]) {
      const spec = f.spec(args);
      const resources = spec.Linux?.Resources;
      assert.ok(resources);
      resources.Memory = { Limit: MEMORY_LIMIT };
      resources.Pids = { Limit: PIDS_LIMIT };
      return spec;
    },
    assertNoContainerLeft: (ids: string[]) => f.assertNoContainerLeft(ids),
  };
  const stats = async (id: string) => {
    const { cgroupStats, networkStats } = await f.rpc.call("statsContainer", { containerId: id }, T);
    const { cpuStats, memoryStats, pidsStats, blkioStats } = cgroupStats ?? {};
    assert.ok(cpuStats?.cpuUsage && cpuStats.throttlingData && memoryStats?.usage && pidsStats && blkioStats);
    return {
      cpu: cpuStats.cpuUsage,
      memory: memoryStats,
      usage: memoryStats.usage,
      pids: pidsStats,
      blkio: blkioStats,
      networkStats,
    };
  };
  const untilPids = async (id: string, count: bigint) => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { current } = (await stats(id)).pids;
      if (current === count) return;
      assert.ok(Date.now() < deadline, `${current} processes in ${id}, want ${count}`);
      await sleep(20);
    }
  };

  it("answers NOT_FOUND for a container it does not know", TEST, async () => {
    await assert.rejects(stats("nobody"), failsWith(Code.NOT_FOUND, /nobody/));
  });

  it(
    "reports the spec's limits, and memory, CPU time and processes as the container uses them",
    TEST,
    async () => {
      await inContainer(limited, "stats-busy", async () => {
        const s0 = await stats("stats-busy");
        assert.equal(s0.usage.limit, MEMORY_LIMIT);
        assert.equal(s0.pids.limit, PIDS_LIMIT);
        assert.equal(s0.pids.current, 1n);
        assert.ok(s0.cpu.totalUsage > 0n, "runc's init ran in the cgroup");
        assert.equal(s0.memory.useHierarchy, true);

        await exec(limited, "stats-busy", "fill", ["sh", "-c", "head -c 20m /dev/zero > /dev/shm/fill"]);
        assert.equal(await waitFor(limited, "stats-busy", "fill"), 0);
        const s1 = await stats("stats-busy");
        // Less what the exec's runc init gave back when it ended.
        assert.ok(
          s1.usage.usage - s0.usage.usage >= 16n * MiB,
          `usage ${s0.usage.usage} → ${s1.usage.usage}`,
        );
        assert.ok(
          s1.memory.cache - s0.memory.cache >= 20n * MiB,
          `cache ${s0.memory.cache} → ${s1.memory.cache}`,
        );
        assert.ok((s1.memory.stats.shmem ?? 0n) >= 20n * MiB, "memory.stat counts the shm file");
        assert.ok(s1.usage.maxUsage >= s1.usage.usage);

        await exec(limited, "stats-busy", "spin", ["sh", "-c", SPIN]);
        assert.equal(await waitFor(limited, "stats-busy", "spin"), 0);
        const s2 = await stats("stats-busy");
        const spent = s2.cpu.totalUsage - s1.cpu.totalUsage;
        assert.ok(spent >= 50_000_000n, `the loop took ${spent} ns of CPU`);
        assert.ok(s2.cpu.usageInUsermode > s1.cpu.usageInUsermode, "the loop ran in user mode");
        if (V1) {
          const total = s2.cpu.totalUsage;
          const perCpu = s2.cpu.percpuUsage.reduce((a, b) => a + b, 0n);
          const gap = perCpu > total ? perCpu - total : total - perCpu;
          assert.ok(
            gap <= 10_000_000n,
            `per CPU ${s2.cpu.percpuUsage.join(" + ")} = ${perCpu}, total ${total}`,
          );
        }

        await exec(limited, "stats-busy", "procs", ["sh", "-c", "sleep 1 & sleep 1 & sleep 1 & wait"]);
        await untilPids("stats-busy", 5n);
        assert.equal(await waitFor(limited, "stats-busy", "procs"), 0);
        await untilPids("stats-busy", 1n);
      });
    },
  );

  it("reports a created container before it starts", TEST, async () => {
    await f.rpc.call(
      "createContainer",
      { containerId: "stats-early", execId: "stats-early", OCI: limited.spec(["true"]) },
      T,
    );
    try {
      const s = await stats("stats-early");
      assert.ok(s.pids.current >= 1n, "runc's init (a task per thread) waits in the cgroup");
      assert.equal(s.usage.limit, MEMORY_LIMIT);
    } finally {
      await f.rpc.call("removeContainer", { containerId: "stats-early" }, T);
    }
    f.assertNoContainerLeft(["stats-early"]);
  });

  it("keeps a stopped container's last statistics until RemoveContainer, then NOT_FOUND", TEST, async () => {
    const script = `head -c 10m /dev/zero > /dev/shm/f; ${SPIN}`;
    await f.rpc.call(
      "createContainer",
      { containerId: "stats-done", execId: "stats-done", OCI: limited.spec(["sh", "-c", script]) },
      T,
    );
    try {
      await f.rpc.call("startContainer", { containerId: "stats-done" }, T);
      assert.equal(await waitFor(limited, "stats-done", ""), 0);
      const s = await stats("stats-done");
      assert.equal(s.pids.current, 0n);
      assert.ok(s.usage.maxUsage >= 10n * MiB, `peak ${s.usage.maxUsage}`);
      assert.ok(s.cpu.totalUsage >= 50_000_000n, `CPU ${s.cpu.totalUsage} ns`);
      assert.equal(s.usage.limit, MEMORY_LIMIT);
      assert.deepEqual(s.networkStats, [], "a stopped container has no network namespace left");
    } finally {
      await f.rpc.call("removeContainer", { containerId: "stats-done" }, T);
    }
    await assert.rejects(stats("stats-done"), failsWith(Code.NOT_FOUND, /stats-done/));
    f.assertNoContainerLeft(["stats-done"]);
  });

  it("answers NOT_FOUND at once while RemoveContainer runs, without waiting for it", TEST, async () => {
    const spec = limited.spec(["sleep", "1000"]);
    spec.Hooks = { Poststop: [{ Path: "/bin/sleep", Args: ["sleep", "2"] }] };
    await f.rpc.call("createContainer", { containerId: "stats-gone", execId: "stats-gone", OCI: spec }, T);
    await f.rpc.call("startContainer", { containerId: "stats-gone" }, T);
    const removal = f.rpc.call("removeContainer", { containerId: "stats-gone" }, T);
    const t0 = performance.now();
    await assert.rejects(stats("stats-gone"), failsWith(Code.NOT_FOUND, /stats-gone is being removed/));
    const took = performance.now() - t0;
    await removal;
    assert.ok(took < 1000, `StatsContainer answered after ${took.toFixed(0)} ms`);
    f.assertNoContainerLeft(["stats-gone"]);
  });

  it("counts the container's block I/O per device", TEST, async (t) => {
    const dev = statSync(f.out).dev;
    const major = BigInt(((dev >> 8) & 0xfff) | (Math.floor(dev / 2 ** 32) & ~0xfff));
    const minor = BigInt((dev & 0xff) | ((dev >> 12) & 0xfff00));
    if (major === 0n) return t.skip(`${f.out} is not on a block device`);
    await inContainer(limited, "stats-disk", async () => {
      const write = ["dd", "if=/dev/zero", "of=/out/disk", "bs=64k", "count=32", "oflag=direct"];
      await exec(limited, "stats-disk", "dd", write);
      assert.equal(await waitFor(limited, "stats-disk", "dd"), 0);
      const { blkio } = await stats("stats-disk");
      const onDevice = (list: typeof blkio.ioServiceBytesRecursive) =>
        list.find((e) => e.major === major && e.minor === minor && e.op === "Write")?.value ?? 0n;
      assert.ok(onDevice(blkio.ioServiceBytesRecursive) >= 2n * MiB, `written to ${major}:${minor}`);
      assert.ok(onDevice(blkio.ioServicedRecursive) >= 32n);
    });
  });

  it(
    "reports the interfaces of the container's network namespace but lo, with their counters",
    TEST,
    async () => {
      const ip = (...args: string[]) =>
        execFileSync("nsenter", [`--net=/proc/${f.agent.pid}/ns/net`, "ip", ...args]);
      ip("link", "add", "bt0", "type", "veth", "peer", "name", "bt1");
      ip("link", "set", "bt0", "up");
      ip("link", "set", "bt1", "up");
      ip("addr", "add", "10.199.0.1/24", "dev", "bt0");
      ip("neigh", "add", "10.199.0.2", "lladdr", "02:00:00:00:00:02", "dev", "bt0");
      try {
        await inContainer(limited, "stats-net", async () => {
          const byName = async () => new Map((await stats("stats-net")).networkStats.map((i) => [i.name, i]));
          const before = await byName();
          assert.deepEqual([...before.keys()].sort(), ["bt0", "bt1"]);
          await exec(limited, "stats-net", "connect", ["nc", "-w", "1", "10.199.0.2", "9"]);
          await waitFor(limited, "stats-net", "connect");
          const after = await byName();
          const sent = (after.get("bt0")?.txPackets ?? 0n) - (before.get("bt0")?.txPackets ?? 0n);
          const got = (after.get("bt1")?.rxPackets ?? 0n) - (before.get("bt1")?.rxPackets ?? 0n);
          assert.ok(sent >= 1n && got >= 1n, `bt0 sent ${sent}, bt1 received ${got}`);
          assert.ok((after.get("bt0")?.txBytes ?? 0n) > (before.get("bt0")?.txBytes ?? 0n));
        });
      } finally {
        ip("link", "del", "bt0");
      }
    },
  );
});
