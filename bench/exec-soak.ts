/**
 * npm run bench:soak — exec/wait cycles in one container through berth (ttrpc on a unix socket), then
 * what they left in the agent: fd count, zombie children and RSS, before (after a warm-up) and after.
 * Even cycles read stdout and stderr to EOF before WaitProcess, odd ones wait without reading (WaitProcess
 * must close the unread pipes). The test suite runs the same with 200 cycles
 * (test/integration/process-soak.test.ts). Exits 1 when an fd or a zombie leaked (RSS growth over 10 MiB
 * only warns: see below). Not part of the tests.
 *
 *   SOAK_CYCLES=1000 npm run bench:soak
 */
import { containerSpec } from "../test/support/container-spec.js";
import {
  echoCycle,
  fdCount,
  sleep,
  startBenchAgent,
  zombieChildren,
} from "../test/support/process-helpers.js";
import { median, percentile } from "../test/support/stats.js";

const cycles = Number(process.env.SOAK_CYCLES ?? 1000);
const warmup = 10;
const T = 30_000;

async function main() {
  const { rootfs, agent, rpc, stop } = await startBenchAgent("soak");
  const id = "soak";
  let failed = false;
  try {
    await rpc.call("createSandbox", { sandboxId: "soak", hostname: "soak" }, T);
    const spec = containerSpec({ rootfs, args: ["sleep", "1000"] });
    await rpc.call("createContainer", { containerId: id, OCI: spec }, T);
    await rpc.call("startContainer", { containerId: id }, T);
    const host = { rpc, spec: () => spec }; // execs reuse the container's process settings
    const cycle = (i: number) => echoCycle(host, id, i, T);

    for (let i = 0; i < warmup; i++) await cycle(i);
    const fds0 = fdCount(agent.pid);
    const rss0 = agent.rssKiB();
    const zombies0 = zombieChildren(agent.pid).length;
    const times: number[] = [];
    const samples: number[] = []; // agent RSS in MiB every 100 cycles
    const t0 = performance.now();
    for (let i = warmup; i < warmup + cycles; i++) {
      const t = performance.now();
      await cycle(i);
      times.push(performance.now() - t);
      if ((i - warmup + 1) % 100 === 0) samples.push(agent.rssKiB() / 1024);
    }
    const took = performance.now() - t0;
    await sleep(500); // let asynchronous closes and reaps finish
    const fds1 = fdCount(agent.pid);
    const rss1 = agent.rssKiB();
    const zombies = zombieChildren(agent.pid);

    console.log(
      `exec/wait soak: ${cycles} cycles of \`echo i\` in one container (after ${warmup} warm-up cycles)\n`,
    );
    console.log(
      `time           ${(took / 1000).toFixed(1)} s; per cycle median ${median(times).toFixed(1)} ms, p90 ${percentile(times, 0.9).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms`,
    );
    console.log(`agent fds      ${fds0} → ${fds1} (${fds1 - fds0 >= 0 ? "+" : ""}${fds1 - fds0})`);
    console.log(
      `zombies        ${zombies0} → ${zombies.length}${zombies.length ? ` ${JSON.stringify(zombies)}` : ""}`,
    );
    console.log(
      `agent RSS      ${(rss0 / 1024).toFixed(1)} → ${(rss1 / 1024).toFixed(1)} MiB (${((rss1 - rss0) / 1024).toFixed(1)} MiB)`,
    );
    console.log(`RSS every 100  ${samples.map((x) => x.toFixed(0)).join(" ")} MiB`);
    const verdicts = [
      ["no fd leak (±2)", Math.abs(fds1 - fds0) <= 2],
      ["no zombie", zombies.length === 0],
    ] as const;
    console.log("");
    for (const [what, ok] of verdicts) console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
    // RSS is a warning, not a failure: V8 grows its heap lazily for thousands of cycles before a major GC
    // gives memory back (with --trace-gc the live heap after each Mark-Compact stays flat). A leak is
    // growth that never comes back: compare runs of different lengths (SOAK_CYCLES) before blaming one.
    const growth = (rss1 - rss0) / 1024;
    console.log(
      `${growth < 10 ? "ok  " : "WARN"} RSS growth < 10 MiB (${growth.toFixed(1)} MiB; see the samples above)`,
    );
    failed = verdicts.some(([, ok]) => !ok);
    await rpc.call("removeContainer", { containerId: id }, T);
    await rpc.call("destroySandbox", {}, T);
  } finally {
    await stop();
  }
  if (failed) process.exitCode = 1;
}

await main();
