/**
 * npm run bench:control — PauseContainer + ResumeContainer and UpdateContainer through berth (ttrpc on a
 * unix socket) against the same runc verbs run directly on the same container (`runc pause` + `runc resume`,
 * `runc update -r -`, in the agent's mount and network namespaces through nsenter), taking turns; nsenter
 * alone is timed too, so its own cost can be taken out. Reports medians, p90 and ratios. Not part of the tests.
 *
 *   BENCH_RUNS=50 npm run bench:control
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { containerSpec } from "../test/support/container-spec.js";
import { startBenchAgent } from "../test/support/process-helpers.js";
import { median, percentile } from "../test/support/stats.js";

const runs = Number(process.env.BENCH_RUNS ?? 50);
const T = 60_000;
const ms = (x: number) => (Number.isNaN(x) ? "" : x.toFixed(1).padStart(9));

async function main() {
  const { rootfs, agent, rpc, stop } = await startBenchAgent("control");
  const id = "bench";
  const runcRoot = join(agent.dir, "runc");
  const inAgentNs = [`--mount=/proc/${agent.pid}/ns/mnt`, `--net=/proc/${agent.pid}/ns/net`];
  const nsenter = (args: string[], input?: string) =>
    execFileSync("nsenter", [...inAgentNs, ...args], {
      stdio: [input ? "pipe" : "ignore", "ignore", "ignore"],
      input,
    });
  const timed = async (f: () => unknown) => {
    const t = performance.now();
    await f();
    return performance.now() - t;
  };
  try {
    await rpc.call("createSandbox", { sandboxId: "bench", hostname: "bench" }, T);
    const spec = containerSpec({ rootfs, args: ["sleep", "1000"] });
    await rpc.call("createContainer", { containerId: id, execId: id, OCI: spec }, T);
    await rpc.call("startContainer", { containerId: id }, T);

    const limits = (i: number) => ({ memory: 256 + (i % 2), pids: 100 + (i % 2), shares: 512 + (i % 2) });
    const cases = {
      "berth PauseContainer + ResumeContainer": async () => {
        await rpc.call("pauseContainer", { containerId: id }, T);
        await rpc.call("resumeContainer", { containerId: id }, T);
      },
      "runc pause + runc resume (via nsenter)": () => {
        nsenter(["runc", "--root", runcRoot, "pause", id]);
        nsenter(["runc", "--root", runcRoot, "resume", id]);
      },
      "berth UpdateContainer": (i: number) => {
        const l = limits(i);
        return rpc.call(
          "updateContainer",
          {
            containerId: id,
            resources: {
              Memory: { Limit: BigInt(l.memory) << 20n },
              CPU: { Shares: BigInt(l.shares) },
              Pids: { Limit: BigInt(l.pids) },
            },
          },
          T,
        );
      },
      "runc update -r - (via nsenter)": (i: number) => {
        const l = limits(i);
        const json = JSON.stringify({
          memory: { limit: l.memory << 20 },
          cpu: { shares: l.shares },
          pids: { limit: l.pids },
        });
        nsenter(["runc", "--root", runcRoot, "update", "--resources", "-", id], json);
      },
      "nsenter alone": () => nsenter(["true"]),
    } satisfies Record<string, (i: number) => unknown>;
    const names = Object.keys(cases) as (keyof typeof cases)[];
    const took = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<
      keyof typeof cases,
      number[]
    >;
    for (let i = -3; i < runs; i++) {
      // Rotate who goes first, so neither side always runs on a cache the other warmed; 3 warm-up rounds.
      for (let k = 0; k < names.length; k++) {
        const name = names[(i + 3 + k) % names.length] as keyof typeof cases;
        const t = await timed(() => cases[name](i + 3));
        if (i >= 0) took[name].push(t);
      }
    }

    console.log(`pause/resume and update of a running container, ${runs} runs each, taking turns\n`);
    console.log("what                                        median ms   p90 ms");
    for (const name of names)
      console.log(`${name.padEnd(42)} ${ms(median(took[name]))} ${ms(percentile(took[name], 0.9))}`);
    const bare = median(took["nsenter alone"]);
    const ratio = (berth: keyof typeof cases, runc: keyof typeof cases, nsenters: number) => {
      const b = median(took[berth]);
      const r = median(took[runc]);
      return `${(b / r).toFixed(3)}× (without nsenter: ${(b / (r - nsenters * bare)).toFixed(3)}×)`;
    };
    console.log(
      `\nratio berth / runc, pause + resume: ${ratio("berth PauseContainer + ResumeContainer", "runc pause + runc resume (via nsenter)", 2)}`,
    );
    console.log(
      `ratio berth / runc, update:         ${ratio("berth UpdateContainer", "runc update -r - (via nsenter)", 1)}`,
    );
    console.log(`agent RSS after the runs: ${(agent.rssKiB() / 1024).toFixed(1)} MiB`);
    await rpc.call("removeContainer", { containerId: id }, T);
    await rpc.call("destroySandbox", {}, T);
  } finally {
    await stop();
  }
}

await main();
