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
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAgent } from "../test/support/agent-process.js";
import { AgentRpc } from "../test/support/agent-rpc.js";
import { makeBusyboxRootfs } from "../test/support/busybox-rootfs.js";
import { containerSpec } from "../test/support/container-spec.js";
import { childrenOf } from "../test/support/leftovers.js";

const cycles = Number(process.env.SOAK_CYCLES ?? 1000);
const warmup = 10;
const T = 30_000;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? Number.NaN;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const fdCount = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;
const zombieChildren = (pid: number) =>
  childrenOf(pid).filter(([child]) => {
    try {
      const stat = readFileSync(`/proc/${child}/stat`, "utf8");
      return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
    } catch {
      return false;
    }
  });

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "berth-bench-soak-"));
  const rootfs = makeBusyboxRootfs(join(dir, "rootfs"));
  const agent = await startAgent({ netns: true, args: ["--log-level", "warn"] });
  const rpc = await AgentRpc.connect(agent.socketPath);
  const id = "soak";
  let failed = false;
  try {
    await rpc.call("createSandbox", { sandboxId: "soak", hostname: "soak" }, T);
    await rpc.call(
      "createContainer",
      { containerId: id, OCI: containerSpec({ rootfs, args: ["sleep", "1000"] }) },
      T,
    );
    await rpc.call("startContainer", { containerId: id }, T);
    const base = containerSpec({ rootfs, args: [] }).Process;

    const readAll = async (stream: "readStdout" | "readStderr", execId: string) => {
      const chunks: Buffer[] = [];
      for (;;) {
        const { data } = await rpc.call(stream, { containerId: id, execId, len: 64 << 10 }, T);
        if (data.length === 0) return Buffer.concat(chunks).toString();
        chunks.push(Buffer.from(data));
      }
    };
    const cycle = async (i: number) => {
      const execId = `soak-${i}`;
      await rpc.call(
        "execProcess",
        { containerId: id, execId, process: { ...base, Args: ["echo", String(i)] } },
        T,
      );
      if (i % 2 === 0) {
        const [out, err] = await Promise.all([readAll("readStdout", execId), readAll("readStderr", execId)]);
        if (out !== `${i}\n` || err !== "")
          throw new Error(`cycle ${i}: stdout ${JSON.stringify(out)}, stderr ${JSON.stringify(err)}`);
      }
      const { status } = await rpc.call("waitProcess", { containerId: id, execId }, T);
      if (status !== 0) throw new Error(`cycle ${i} exited ${status}`);
    };

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
      `time           ${(took / 1000).toFixed(1)} s; per cycle median ${median(times).toFixed(1)} ms, p90 ${pct(times, 0.9).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms`,
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
    rpc.close();
    await agent.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  if (failed) process.exitCode = 1;
}

await main();
