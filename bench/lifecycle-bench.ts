/**
 * npm run bench:lifecycle — one container running `true`, end to end: CreateContainer + StartContainer +
 * WaitProcess + RemoveContainer through berth (ttrpc on a unix socket), against `runc run` of the same
 * bundle (same config.json, same sandbox namespaces, run in the agent's mount and network namespaces), in
 * one run, the two taking turns. Reports medians and the ratio. Not part of the tests.
 *
 *   BENCH_RUNS=40 npm run bench:lifecycle
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { containerSpec } from "../test/support/container-spec.js";
import { startBenchAgent } from "../test/support/process-helpers.js";
import { median, percentile } from "../test/support/stats.js";

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
    const inAgentNs = ["nsenter", `--mount=/proc/${agent.pid}/ns/mnt`, `--net=/proc/${agent.pid}/ns/net`];

    const berth: number[] = [];
    const steps = {
      create: [] as number[],
      start: [] as number[],
      wait: [] as number[],
      remove: [] as number[],
    };
    const runc: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < runs; i++) {
      const id = `bench-${i}`;
      let t = performance.now();
      const t0 = t;
      const lap = (into: number[]) => {
        const now = performance.now();
        into.push(now - t);
        t = now;
      };
      await rpc.call("createContainer", { containerId: id, OCI: spec });
      lap(steps.create);
      await rpc.call("startContainer", { containerId: id });
      lap(steps.start);
      const { status } = await rpc.call("waitProcess", { containerId: id });
      lap(steps.wait);
      await rpc.call("removeContainer", { containerId: id });
      lap(steps.remove);
      berth.push(performance.now() - t0);
      if (status !== 0) throw new Error(`container ${id} exited ${status}`);
      rss.push(agent.rssKiB() / 1024);

      t = performance.now();
      execFileSync(
        inAgentNs[0] as string,
        [...inAgentNs.slice(1), "runc", "--root", runcRoot, "run", "--bundle", bundle, id],
        {
          stdio: "ignore",
        },
      );
      runc.push(performance.now() - t);
    }
    // nsenter's own cost, so the baseline can be read without it.
    const nsenter: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      execFileSync(inAgentNs[0] as string, [...inAgentNs.slice(1), "true"]);
      nsenter.push(performance.now() - t);
    }
    await rpc.call("destroySandbox", {});

    const b = median(berth);
    const r = median(runc);
    const n = median(nsenter);
    const rows = [
      ["berth (create+start+wait+remove)", b, percentile(berth, 0.9)],
      ["runc run (via nsenter)", r, percentile(runc, 0.9)],
      ["runc run, nsenter cost removed", r - n, Number.NaN],
    ] as const;
    console.log(`container lifecycle of \`true\`, ${runs} runs each, alternating\n`);
    console.log("what                                 median ms   p90 ms");
    for (const [what, med, p90] of rows) {
      console.log(
        `${what.padEnd(36)} ${med.toFixed(1).padStart(9)} ${Number.isNaN(p90) ? "" : p90.toFixed(1).padStart(8)}`,
      );
    }
    const parts = Object.entries(steps).map(([k, v]) => `${k} ${median(v).toFixed(1)}`);
    console.log(`\nberth per RPC, median ms: ${parts.join(", ")}`);
    console.log(
      `\nratio berth / runc run: ${(b / r).toFixed(3)}× (without nsenter: ${(b / (r - n)).toFixed(3)}×)`,
    );
    console.log(
      `agent RSS during the run: median ${median(rss).toFixed(1)} MiB, max ${Math.max(...rss).toFixed(1)} MiB`,
    );
  } finally {
    await stop();
  }
}

await main();
