/**
 * npm run bench:lifecycle — one container running `true`, end to end: CreateContainer + StartContainer +
 * WaitProcess + RemoveContainer through berth (ttrpc on a unix socket), against bare runc driven by a small
 * Go process (test/interop/go/runc-cycle, started once in the agent's mount and network namespaces): the
 * same verbs (`runc create`, `start`, a wait4 of the init as a subreaper, `runc delete`: the "split") and
 * `runc run`, of the same bundle (berth's own config.json, so the same sandbox namespaces), in one run,
 * the three taking turns. Reports medians, each berth phase next to its runc verb, and the ratios.
 * With `--trace`, one more cycle of berth's runs under strace (bench/syscall-trace.ts): per RPC, the
 * agent's syscalls, its thread-pool operations in order, its children and their lifetimes.
 * Not part of the tests.
 *
 *   BENCH_RUNS=40 npm run bench:lifecycle
 *   npm run bench:lifecycle -- --trace
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { containerSpec } from "../test/support/container-spec.js";
import { buildRuncCycle } from "../test/support/interop-peers.js";
import { startBenchAgent } from "../test/support/process-helpers.js";
import { startRuncBaseline } from "../test/support/runc-baseline.js";
import { median, percentile } from "../test/support/stats.js";
import { traceCalls } from "./syscall-trace.js";

const runs = Number(process.env.BENCH_RUNS ?? 40);

async function main() {
  const { dir, rootfs, agent, rpc, stop } = await startBenchAgent("lifecycle");
  try {
    await rpc.call("createSandbox", { sandboxId: "bench", hostname: "bench" });
    const spec = containerSpec({ rootfs, args: ["true"] });

    // The baseline bundle: berth's own config.json for this container, with the rootfs used in place.
    await rpc.call("createContainer", { containerId: "template", OCI: spec });
    const config = JSON.parse(readFileSync(join(agent.dir, "run", "template", "config.json"), "utf8"));
    await rpc.call("removeContainer", { containerId: "template" });
    config.root.path = rootfs;
    const bundle = join(dir, "bundle");
    mkdirSync(bundle);
    writeFileSync(join(bundle, "config.json"), JSON.stringify(config));
    const runcRoot = join(dir, "runc");
    const baseline = startRuncBaseline(await buildRuncCycle(), agent.pid, runcRoot, bundle);

    const berth = {
      create: [] as number[],
      start: [] as number[],
      wait: [] as number[],
      remove: [] as number[],
    };
    const split = {
      create: [] as number[],
      start: [] as number[],
      wait: [] as number[],
      remove: [] as number[],
    };
    const cycle: number[] = [];
    const splitCycle: number[] = [];
    const run: number[] = [];
    const rss: number[] = [];
    const berthCycle = async (id: string, record: boolean) => {
      let t = performance.now();
      const t0 = t;
      const lap = (into: number[]) => {
        const now = performance.now();
        if (record) into.push(now - t);
        t = now;
      };
      await rpc.call("createContainer", { containerId: id, OCI: spec });
      lap(berth.create);
      await rpc.call("startContainer", { containerId: id });
      lap(berth.start);
      const { status } = await rpc.call("waitProcess", { containerId: id });
      lap(berth.wait);
      await rpc.call("removeContainer", { containerId: id });
      lap(berth.remove);
      if (status !== 0) throw new Error(`container ${id} exited ${status}`);
      if (record) cycle.push(performance.now() - t0);
    };
    const baselineCycle = async (id: string, record: boolean) => {
      const b = await baseline.ask(`split ${id}`);
      const r = await baseline.ask(`run ${id}-run`);
      if (!record) return;
      split.create.push(b.create_ms ?? 0);
      split.start.push(b.start_ms ?? 0);
      split.wait.push(b.wait_ms ?? 0);
      split.remove.push(b.delete_ms ?? 0);
      splitCycle.push((b.create_ms ?? 0) + (b.start_ms ?? 0) + (b.wait_ms ?? 0) + (b.delete_ms ?? 0));
      run.push(r.run_ms ?? 0);
    };
    for (let i = 0; i < 3; i++) {
      await berthCycle(`warm-${i}`, false);
      await baselineCycle(`warm-${i}`, false);
    }
    for (let i = 0; i < runs; i++) {
      await berthCycle(`bench-${i}`, true);
      rss.push(agent.rssKiB() / 1024);
      await baselineCycle(`bench-${i}`, true);
    }
    baseline.close();
    let trace = "";
    if (process.argv.includes("--trace")) {
      trace = await traceCalls(
        agent.pid,
        async (mark) => {
          await rpc.call("createContainer", { containerId: "traced", OCI: spec });
          mark("CreateContainer");
          await rpc.call("startContainer", { containerId: "traced" });
          mark("StartContainer");
          await rpc.call("waitProcess", { containerId: "traced" });
          mark("WaitProcess");
          await rpc.call("removeContainer", { containerId: "traced" });
          mark("RemoveContainer");
        },
        join(dir, "strace.txt"),
      );
    }
    await rpc.call("destroySandbox", {});

    const f = (x: number) => x.toFixed(1).padStart(8);
    const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`.padStart(8);
    console.log(
      `container lifecycle of \`true\`, ${runs} runs each, taking turns (medians, ms); bundles and runc roots in ${dirname(dir)}\n`,
    );
    console.log(`${"phase".padEnd(10)}    berth  p90 berth  runc verb    ratio`);
    for (const phase of ["create", "start", "wait", "remove"] as const) {
      const b = median(berth[phase]);
      const r = median(split[phase]);
      console.log(`${phase.padEnd(10)} ${f(b)} ${f(percentile(berth[phase], 0.9))} ${f(r)} ${ratio(b, r)}`);
    }
    const c = median(cycle);
    console.log(
      `${"cycle".padEnd(10)} ${f(c)} ${f(percentile(cycle, 0.9))} ${f(median(splitCycle))} ${ratio(c, median(splitCycle))}  (runc split)`,
    );
    console.log(
      `${"".padEnd(10)} ${"".padStart(8)} ${"".padStart(8)} ${f(median(run))} ${ratio(c, median(run))}  (runc run)`,
    );
    console.log(
      `\nagent RSS during the run: median ${median(rss).toFixed(1)} MiB, max ${Math.max(...rss).toFixed(1)} MiB`,
    );
    if (trace) console.log(`\none more cycle of berth under strace (the agent's threads only):${trace}`);
  } finally {
    await stop();
  }
}

await main();
