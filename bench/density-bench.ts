/**
 * npm run bench:density — BENCH_CONTAINERS (200) long-running containers (busybox `sleep`) through berth
 * and as many through bare runc (test/interop/go/runc-cycle in the agent's namespaces: create, start,
 * `exec true`, kill + delete), filled in alternating blocks of BENCH_BLOCK (25), so that both see the
 * machine grow alike; then emptied the same way. Per container: create+start, one exec, removal. Reports
 * the first and last block's medians, the growth over the fill from a Theil–Sen slope (robust to the
 * machine's stalls), berth's growth next to runc's, the agent's RSS and fds per container, and its RSS
 * 30 s after the containers are gone next to its idle RSS. Not part of the tests.
 *
 *   BENCH_CONTAINERS=200 BENCH_BLOCK=25 npm run bench:density
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { containerSpec } from "../test/support/container-spec.js";
import { buildRuncCycle } from "../test/support/interop-peers.js";
import { sleep, startBenchAgent } from "../test/support/process-helpers.js";
import { startRuncBaseline } from "../test/support/runc-baseline.js";
import { median, theilSen } from "../test/support/stats.js";

const containers = Number(process.env.BENCH_CONTAINERS ?? 200);
const block = Number(process.env.BENCH_BLOCK ?? 25);
const T = 60_000;

interface Series {
  up: number[];
  exec: number[];
  down: number[];
}

const series = (): Series => ({ up: [], exec: [], down: [] });

/** The resident KiB of a process's malloc heap (the [heap] mapping: with one arena, all of it). */
function mallocHeapKiB(pid: number): number {
  const smaps = readFileSync(`/proc/${pid}/smaps`, "utf8");
  const at = smaps.indexOf("[heap]");
  if (at < 0) return 0;
  return Number(/Rss:\s+(\d+) kB/.exec(smaps.slice(at))?.[1] ?? 0);
}

async function main() {
  const { dir, rootfs, agent, rpc, stop } = await startBenchAgent("density");
  const fds = () => readdirSync(`/proc/${agent.pid}/fd`).length;
  const rss = () => agent.rssKiB();
  const heap = () => mallocHeapKiB(agent.pid);
  try {
    await rpc.call("createSandbox", { sandboxId: "bench", hostname: "bench" }, T);
    const spec = containerSpec({ rootfs, args: ["sleep", "100000"] });
    await rpc.call("createContainer", { containerId: "template", OCI: spec }, T);
    const config = JSON.parse(readFileSync(join(agent.dir, "run", "template", "config.json"), "utf8"));
    await rpc.call("removeContainer", { containerId: "template" }, T);
    config.root.path = rootfs;
    const bundle = join(dir, "bundle");
    mkdirSync(bundle);
    writeFileSync(join(bundle, "config.json"), JSON.stringify(config));
    const runc = startRuncBaseline(await buildRuncCycle(), agent.pid, join(dir, "runc"), bundle);

    const b = series();
    const r = series();
    const exec = async (id: string, n: number) => {
      const execId = `e${n}`;
      await rpc.call(
        "execProcess",
        { containerId: id, execId, process: { ...spec.Process, Args: ["true"] } },
        T,
      );
      const { status } = await rpc.call("waitProcess", { containerId: id, execId }, T);
      if (status !== 0) throw new Error(`exec in ${id} exited ${status}`);
    };
    const timed = async (into: number[], f: () => Promise<unknown>) => {
      const t = performance.now();
      await f();
      into.push(performance.now() - t);
    };

    await sleep(2000);
    const idle = { rss: rss(), fds: fds(), heap: heap() };
    for (let first = 0; first < containers; first += block) {
      const last = Math.min(containers, first + block);
      for (let i = first; i < last; i++) {
        const id = `b${i}`;
        await timed(b.up, async () => {
          await rpc.call("createContainer", { containerId: id, execId: id, OCI: spec }, T);
          await rpc.call("startContainer", { containerId: id }, T);
        });
        await timed(b.exec, () => exec(id, i));
      }
      for (let i = first; i < last; i++) {
        const up = await runc.ask(`up r${i}`);
        r.up.push((up.create_ms ?? 0) + (up.start_ms ?? 0));
        r.exec.push((await runc.ask(`exec r${i}`)).exec_ms ?? 0);
      }
    }
    const full = { rss: rss(), fds: fds(), heap: heap() };
    for (let first = 0; first < containers; first += block) {
      const last = Math.min(containers, first + block);
      for (let i = first; i < last; i++) {
        await timed(b.down, () => rpc.call("removeContainer", { containerId: `b${i}` }, T));
      }
      for (let i = first; i < last; i++) r.down.push((await runc.ask(`down r${i}`)).delete_ms ?? 0);
    }
    runc.close();
    const emptied = rss();
    await sleep(30_000);
    const settled = rss();
    const settledHeap = heap();
    await rpc.call("destroySandbox", {}, T);

    const f = (x: number) => x.toFixed(1).padStart(7);
    const index = Array.from({ length: containers }, (_, i) => i);
    const firstBlock = (xs: number[]) => median(xs.slice(0, block));
    const lastBlock = (xs: number[]) => median(xs.slice(-block));
    const growth = (xs: number[]) => theilSen(index, xs) * (containers - 1);
    console.log(
      `${containers} containers through berth and ${containers} through bare runc, in alternating blocks of ${block} (ms)\n`,
    );
    console.log(
      `${"what".padEnd(20)} ${"first".padStart(7)} ${"last".padStart(7)} ${"growth".padStart(7)}   (Theil–Sen over the fill)`,
    );
    const rows: [string, number[]][] = [
      ["berth create+start", b.up],
      ["runc create+start", r.up],
      ["berth exec", b.exec],
      ["runc exec", r.exec],
      ["berth remove", b.down],
      ["runc kill+delete", r.down],
    ];
    for (const [what, xs] of rows) {
      console.log(`${what.padEnd(20)} ${f(firstBlock(xs))} ${f(lastBlock(xs))} ${f(growth(xs))}`);
    }
    console.log(
      `\ncreate+start growth, berth − runc: ${(growth(b.up) - growth(r.up)).toFixed(1)} ms (target ≤ 5); ` +
        `first-block ratio ${(firstBlock(b.up) / firstBlock(r.up)).toFixed(2)}×, last-block ${(lastBlock(b.up) / lastBlock(r.up)).toFixed(2)}×`,
    );
    console.log(
      `agent: idle ${(idle.rss / 1024).toFixed(1)} MiB, ${idle.fds} fds; with ${containers} containers ` +
        `${(full.rss / 1024).toFixed(1)} MiB (${((full.rss - idle.rss) / containers).toFixed(0)} KiB a container, target ≤ 100), ` +
        `${full.fds} fds (${((full.fds - idle.fds) / containers).toFixed(1)} a container)`,
    );
    console.log(
      `agent RSS once emptied ${(emptied / 1024).toFixed(1)} MiB, 30 s later ${(settled / 1024).toFixed(1)} MiB ` +
        `(idle + ${((settled - idle.rss) / 1024).toFixed(1)} MiB, target ≤ 10)`,
    );
    const mib = (k: number) => `${(k / 1024).toFixed(1)} MiB`;
    console.log(
      `of which malloc's heap: idle ${mib(idle.heap)}, full ${mib(full.heap)}, 30 s after ${mib(settledHeap)}`,
    );
  } finally {
    await stop();
  }
}

await main();
