/**
 * npm run bench:stats — StatsContainer on a running container (a shell with two background sleeps,
 * memory and pids limits set), one call at a time over ttrpc on a unix socket, against
 * `runc events --stats` on the same container (runc's own reading of the same cgroup files, run in the
 * agent's mount and network namespaces through nsenter) for context. Reports medians and p90. Not part
 * of the tests.
 *
 *   BENCH_RUNS=200 BENCH_RUNC_RUNS=20 npm run bench:stats
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { containerSpec } from "../test/support/container-spec.js";
import { startBenchAgent } from "../test/support/process-helpers.js";
import { median, percentile } from "../test/support/stats.js";

const runs = Number(process.env.BENCH_RUNS ?? 200);
const runcRuns = Number(process.env.BENCH_RUNC_RUNS ?? 20);
const T = 60_000;

const timed = async (f: () => unknown) => {
  const t = performance.now();
  await f();
  return performance.now() - t;
};

async function main() {
  const { rootfs, agent, rpc, stop } = await startBenchAgent("stats");
  const id = "bench";
  try {
    await rpc.call("createSandbox", { sandboxId: "bench", hostname: "bench" }, T);
    const spec = containerSpec({ rootfs, args: ["sh", "-c", "sleep 1000 & sleep 1000 & wait"] });
    const resources = spec.Linux?.Resources;
    if (resources) {
      resources.Memory = { Limit: 256n << 20n };
      resources.Pids = { Limit: 100n };
    }
    await rpc.call("createContainer", { containerId: id, execId: id, OCI: spec }, T);
    await rpc.call("startContainer", { containerId: id }, T);

    const stats = () => rpc.call("statsContainer", { containerId: id }, T);
    const inAgentNs = [`--mount=/proc/${agent.pid}/ns/mnt`, `--net=/proc/${agent.pid}/ns/net`];
    const runcStats = () =>
      execFileSync(
        "nsenter",
        [...inAgentNs, "runc", "--root", join(agent.dir, "runc"), "events", "--stats", id],
        {
          stdio: ["ignore", "ignore", "inherit"],
        },
      );

    for (let i = 0; i < 20; i++) await stats();
    const berth: number[] = [];
    for (let i = 0; i < runs; i++) berth.push(await timed(stats));
    const reply = await stats();
    const runc: number[] = [];
    for (let i = 0; i < runcRuns; i++) runc.push(await timed(runcStats));

    const ms = (x: number) => x.toFixed(2).padStart(9);
    console.log(`StatsContainer on a running container, one call at a time\n`);
    console.log("what                                     runs   median ms    p90 ms");
    const rows = [
      ["berth StatsContainer (ttrpc)", berth],
      ["runc events --stats (via nsenter)", runc],
    ] as const;
    for (const [what, xs] of rows)
      console.log(
        `${what.padEnd(40)} ${String(xs.length).padStart(5)} ${ms(median(xs))} ${ms(percentile(xs, 0.9))}`,
      );
    const memory = reply.cgroupStats?.memoryStats;
    console.log(
      `\nreply: ${Object.keys(memory?.stats ?? {}).length} memory.stat keys, pids ${reply.cgroupStats?.pidsStats?.current}, ` +
        `memory usage ${memory?.usage?.usage} bytes, agent RSS ${(agent.rssKiB() / 1024).toFixed(1)} MiB`,
    );

    await rpc.call("removeContainer", { containerId: id }, T);
    await rpc.call("destroySandbox", {}, T);
  } finally {
    await stop();
  }
}

await main();
