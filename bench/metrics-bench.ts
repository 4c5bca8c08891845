/**
 * npm run bench:metrics — GetMetrics (ttrpc on a unix socket) on an agent running 50 containers (busybox
 * `sleep`), as kata-monitor scrapes it: paced, one scrape a second, and back to back. Next to it, in the
 * same run and taking turns: Health.Check (the RPC floor: a round trip that does no work) and reading the
 * same procfs files in this bare Node process (the work floor: the kernel's part of a scrape). Reports
 * p50/p90/max latency, the agent's CPU per call (utime+stime of /proc/<agent>/stat over the calls), ratios
 * to the floors, the reply's size and the agent's RSS. Not part of the tests; run it on a quiet machine:
 *
 *   flock /tmp/berth-integration.lock npm run bench:metrics
 *   BENCH_PACED=60 BENCH_FAST=1000 BENCH_CONTAINERS=50 npm run bench:metrics
 */
import { readFileSync } from "node:fs";
import { readKernelFileSync } from "../src/sys/read-kernel-file.js";
import { containerSpec } from "../test/support/container-spec.js";
import { sleep, startBenchAgent } from "../test/support/process-helpers.js";
import { percentile } from "../test/support/stats.js";

const paced = Number(process.env.BENCH_PACED ?? 60);
const fast = Number(process.env.BENCH_FAST ?? 1000);
const containers = Number(process.env.BENCH_CONTAINERS ?? 50);
const T = 60_000;
/** USER_HZ: the unit of utime and stime. */
const TICKS_PER_S = 100;

/** What the agent has used of the CPU so far, in ms (utime + stime of its /proc/<pid>/stat). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S;
}

async function main() {
  const { rootfs, agent, rpc, stop } = await startBenchAgent("metrics");
  const pid = agent.pid;
  const files = [
    ...["stat", "status", "io", "mountinfo"].map((f) => `/proc/${pid}/${f}`),
    ...["loadavg", "stat", "vmstat", "net/dev", "diskstats", "meminfo"].map((f) => `/proc/${f}`),
  ];
  try {
    await rpc.call("createSandbox", { sandboxId: "bench", hostname: "bench" }, T);
    const spec = containerSpec({ rootfs, args: ["sleep", "100000"] });
    for (let i = 0; i < containers; i++) {
      const id = `m${i}`;
      await rpc.call("createContainer", { containerId: id, execId: id, OCI: spec }, T);
      await rpc.call("startContainer", { containerId: id }, T);
    }
    const rssBefore = agent.rssKiB() / 1024;

    let reply = "";
    const cases = {
      "GetMetrics (ttrpc)": async () => {
        reply = (await rpc.call("getMetrics", {}, T)).metrics;
      },
      "Health.Check (ttrpc): RPC floor": () => rpc.client.call("grpc.Health", "Check", new Uint8Array(0)),
      "read the same /proc files: work floor": () => {
        for (const file of files) readKernelFileSync(file);
      },
    } satisfies Record<string, () => unknown>;
    type Case = keyof typeof cases;
    const names = Object.keys(cases) as Case[];
    const took = (): Record<Case, number[]> =>
      Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<Case, number[]>;
    const cpu = Object.fromEntries(names.map((n) => [n, 0])) as Record<Case, number>;
    const run = async (name: Case, into: Record<Case, number[]>) => {
      const c = cpuMs(pid);
      const t = performance.now();
      await cases[name]();
      into[name].push(performance.now() - t);
      cpu[name] += cpuMs(pid) - c;
    };

    for (let i = 0; i < 50; i++) for (const name of names) await run(name, took());

    // Back to back, in turns of 20 calls of each, so that each gets its share of the machine's moods.
    const backToBack = took();
    for (const name of names) cpu[name] = 0;
    for (let i = 0; i < fast; i += 20) {
      for (const name of names) for (let k = 0; k < 20; k++) await run(name, backToBack);
    }
    const fastCpu = { ...cpu };

    // Paced: one scrape a second, as a scraper does, and each call after the same idle gap (a third of a
    // second), so that the floors are measured as cold as GetMetrics: the first call after an idle second
    // pays the wake-up of both processes, whichever RPC it is.
    const pacedTook = took();
    for (const name of names) cpu[name] = 0;
    const cpuStart = cpuMs(pid);
    for (let i = 0; i < paced; i++) {
      for (const name of names) {
        await sleep(1000 / names.length);
        await run(name, pacedTook);
      }
    }
    const pacedCpuPerScrape = (cpuMs(pid) - cpuStart) / Math.max(1, paced);

    const ms = (x: number) => x.toFixed(3).padStart(8);
    const table = (title: string, t: Record<Case, number[]>, cpuOf?: Record<Case, number>) => {
      console.log(`\n${title}`);
      console.log(`${"what".padEnd(40)} calls   p50 ms   p90 ms   max ms  agent CPU ms/call`);
      for (const name of names) {
        const xs = t[name];
        const perCall =
          cpuOf && name !== "read the same /proc files: work floor" ? cpuOf[name] / xs.length : NaN;
        console.log(
          `${name.padEnd(40)} ${String(xs.length).padStart(5)} ${ms(percentile(xs, 0.5))} ${ms(percentile(xs, 0.9))} ${ms(Math.max(...xs))}  ${Number.isNaN(perCall) ? "" : perCall.toFixed(3)}`,
        );
      }
      const p50 = (n: Case) => percentile(t[n], 0.5);
      const metrics = p50("GetMetrics (ttrpc)");
      const floor = p50("Health.Check (ttrpc): RPC floor");
      console.log(
        `ratios (p50): GetMetrics / RPC floor ${(metrics / floor).toFixed(2)}×, GetMetrics / work floor ${(metrics / p50("read the same /proc files: work floor")).toFixed(2)}×, GetMetrics − RPC floor ${(metrics - floor).toFixed(3)} ms`,
      );
    };

    console.log(
      `GetMetrics on an agent with ${containers} running containers; reply ${reply.length} bytes, ` +
        `${reply.split("\n").filter((l) => l && !l.startsWith("#")).length} samples`,
    );
    table(`back to back, ${fast} calls each in turns of 20`, backToBack, fastCpu);
    table(`paced, one of each a second for ${paced} s`, pacedTook, cpu);
    console.log(`agent CPU over the paced run, all it did / scrapes: ${pacedCpuPerScrape.toFixed(3)} ms`);
    console.log(
      `agent RSS: ${rssBefore.toFixed(1)} MiB with the containers, ${(agent.rssKiB() / 1024).toFixed(1)} MiB after the scrapes`,
    );

    for (let i = 0; i < containers; i++) await rpc.call("removeContainer", { containerId: `m${i}` }, T);
    await rpc.call("destroySandbox", {}, T);
  } finally {
    await stop();
  }
}

await main();
