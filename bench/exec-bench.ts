/**
 * npm run bench:exec — process RPCs through berth (ttrpc on a unix socket) against runc used directly on
 * the same container (the agent's runc root, run in the agent's mount and network namespaces through
 * nsenter), in one run, taking turns. Reports medians and ratios. Not part of the tests.
 *
 * 1. Exec latency: ExecProcess + WaitProcess of `true` through berth, against
 *    `nsenter … runc --root <agent>/runc exec <id> true` (foreground: runc waits for the exit), and
 *    nsenter alone (`nsenter … true`) so the baseline can also be read without nsenter's own cost.
 *    Target: berth within 1.10× of runc exec.
 *
 * 2. Stdout throughput: a process in the container writing BENCH_BYTES (default 1 GiB) of zeros,
 *    `dd if=/dev/zero bs=65536 count=BENCH_BYTES/65536` (busybox; `head -c` would be the obvious command,
 *    but busybox head copies through 4 KiB buffers at ~250 MiB/s and would be the bottleneck on both
 *    sides, hiding the cost being measured; dd writes whole 64 KiB pipe-fulls at > 1 GiB/s), read through
 *    berth with ReadStdout(len = 1 MiB) in a loop until EOF, then WaitProcess; against the same process in
 *    the same container started by `runc exec -d` with its stdout a kernel pipe drained by the host's
 *    `cat > /dev/null`:
 *      nsenter … sh -c 'runc … exec -d <id> dd if=/dev/zero bs=65536 count=N | cat > /dev/null'
 *    That is the fairest baseline: the same producer, the same container and cgroup, the same runc start
 *    (berth too starts its execs detached, with pipes as stdio), the same kind of stdout (a pipe), and a
 *    consumer that does nothing but read it (GNU cat, 128 KiB reads) — so the ratio is the cost of
 *    berth's path (pipe → agent → ttrpc frames → client) alone. Foreground `runc exec` is not used there:
 *    it puts its own pipes and an io.Copy in between. Writing to /dev/null inside the container is not
 *    used either: it has no pipe at all and measures only dd. For context the run also reports the same
 *    dd piped to cat on the host, without container or runc.
 *    Target: berth at least half the throughput of the baseline.
 *
 *   BENCH_RUNS=40 BENCH_BYTES=1073741824 BENCH_THROUGHPUT_RUNS=3 npm run bench:exec
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { containerSpec } from "../test/support/container-spec.js";
import { exec, startBenchAgent, waitFor } from "../test/support/process-helpers.js";
import { median, percentile } from "../test/support/stats.js";

const runs = Number(process.env.BENCH_RUNS ?? 40);
const BLOCK = 65536;
const blocks = Math.max(1, Math.floor(Number(process.env.BENCH_BYTES ?? 1 << 30) / BLOCK));
const bytes = blocks * BLOCK;
const producer = ["dd", "if=/dev/zero", `bs=${BLOCK}`, `count=${blocks}`];
const throughputRuns = Number(process.env.BENCH_THROUGHPUT_RUNS ?? 3);
const READ_LEN = 1 << 20;
const T = 120_000;

const ms = (x: number) => x.toFixed(1).padStart(9);
const mibps = (took: number) => (bytes / (1 << 20) / (took / 1000)).toFixed(0).padStart(9);

async function main() {
  const { rootfs, agent, rpc, stop } = await startBenchAgent("exec");
  const id = "bench";
  const runcRoot = join(agent.dir, "runc");
  const inAgentNs = [`--mount=/proc/${agent.pid}/ns/mnt`, `--net=/proc/${agent.pid}/ns/net`];
  const nsenter = (args: string[]) => execFileSync("nsenter", [...inAgentNs, ...args], { stdio: "ignore" });
  try {
    await rpc.call("createSandbox", { sandboxId: "bench", hostname: "bench" }, T);
    const spec = containerSpec({ rootfs, args: ["sleep", "1000"] });
    await rpc.call("createContainer", { containerId: id, execId: id, OCI: spec }, T);
    await rpc.call("startContainer", { containerId: id }, T);
    const host = { rpc, spec: () => spec }; // execs reuse the container's process settings

    // 1. Exec latency.
    const steps = { exec: [] as number[], wait: [] as number[] };
    const berthExec = async (execId: string) => {
      const t0 = performance.now();
      await exec(host, id, execId, ["true"], { timeoutMs: T });
      const t1 = performance.now();
      const status = await waitFor(host, id, execId, T);
      const t2 = performance.now();
      if (status !== 0) throw new Error(`exec ${execId} exited ${status}`);
      steps.exec.push(t1 - t0);
      steps.wait.push(t2 - t1);
      return t2 - t0;
    };
    const timed = (f: () => void) => {
      const t = performance.now();
      f();
      return performance.now() - t;
    };
    const runcExec = () => timed(() => nsenter(["runc", "--root", runcRoot, "exec", id, "true"]));
    const nsenterAlone = () => timed(() => nsenter(["true"]));

    for (let i = 0; i < 3; i++) {
      await berthExec(`warm-${i}`);
      runcExec();
      nsenterAlone();
    }
    steps.exec.length = steps.wait.length = 0;
    const berth: number[] = [];
    const runc: number[] = [];
    const bare: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < runs; i++) {
      // Rotate who goes first, so neither side always runs on a cache the other warmed.
      const order = [
        async () => berth.push(await berthExec(`e${i}`)),
        async () => runc.push(runcExec()),
        async () => bare.push(nsenterAlone()),
      ];
      for (let k = 0; k < order.length; k++) await order[(i + k) % order.length]?.();
      rss.push(agent.rssKiB() / 1024);
    }
    const b = median(berth);
    const r = median(runc);
    const n = median(bare);
    console.log(`exec of \`true\` in a running container, ${runs} runs each, taking turns\n`);
    console.log("what                                   median ms   p90 ms");
    const rows = [
      ["berth ExecProcess + WaitProcess", b, percentile(berth, 0.9)],
      ["runc exec (via nsenter)", r, percentile(runc, 0.9)],
      ["nsenter alone", n, percentile(bare, 0.9)],
      ["runc exec, nsenter cost removed", r - n, Number.NaN],
    ] as const;
    for (const [what, med, p90] of rows)
      console.log(`${what.padEnd(38)} ${ms(med)} ${Number.isNaN(p90) ? "" : ms(p90)}`);
    console.log(
      `\nberth per RPC, median ms: ExecProcess ${median(steps.exec).toFixed(1)}, WaitProcess ${median(steps.wait).toFixed(1)}`,
    );
    console.log(
      `ratio berth / runc exec: ${(b / r).toFixed(3)}× (without nsenter: ${(b / (r - n)).toFixed(3)}×; target ≤ 1.10×)`,
    );

    // 2. Stdout throughput.
    const berthStream = async (execId: string) => {
      const t0 = performance.now();
      await exec(host, id, execId, producer, { timeoutMs: T });
      let got = 0;
      let reads = 0;
      for (;;) {
        const { data } = await rpc.call("readStdout", { containerId: id, execId, len: READ_LEN }, T);
        if (data.length === 0) break;
        got += data.length;
        reads++;
      }
      const status = await waitFor(host, id, execId, T);
      const took = performance.now() - t0;
      if (status !== 0 || got !== bytes)
        throw new Error(`${execId}: status ${status}, ${got} of ${bytes} bytes`);
      return { took, reads };
    };
    const dd = producer.join(" ");
    const pipeScript = `runc --root "$1" exec -d "$2" ${dd} | cat > /dev/null`;
    const runcPipe = () => timed(() => nsenter(["sh", "-c", pipeScript, "sh", runcRoot, id]));
    const hostPipe = () =>
      timed(() =>
        execFileSync("sh", ["-c", `busybox ${dd} 2>/dev/null | cat > /dev/null`], { stdio: "ignore" }),
      );

    const viaBerth: number[] = [];
    const readCounts: number[] = [];
    const viaPipe: number[] = [];
    const raw: number[] = [];
    for (let i = 0; i < throughputRuns; i++) {
      const order = [
        async () => {
          const { took, reads } = await berthStream(`tp-${i}`);
          viaBerth.push(took);
          readCounts.push(reads);
        },
        async () => viaPipe.push(runcPipe()),
        async () => raw.push(hostPipe()),
      ];
      for (let k = 0; k < order.length; k++) await order[(i + k) % order.length]?.();
      rss.push(agent.rssKiB() / 1024);
    }
    const tb = median(viaBerth);
    const tp = median(viaPipe);
    const tr = median(raw);
    console.log(
      `\nstdout throughput: ${bytes} bytes from \`${dd}\`, ${throughputRuns} runs each, taking turns\n`,
    );
    console.log("what                                                   median ms     MiB/s");
    const tputRows = [
      [`berth ReadStdout loop (len ${READ_LEN >> 20} MiB) + WaitProcess`, tb],
      ["in container, runc exec -d | cat > /dev/null (baseline)", tp],
      ["host: the same dd | cat > /dev/null (context)", tr],
    ] as const;
    for (const [what, med] of tputRows) console.log(`${what.padEnd(54)} ${ms(med)} ${mibps(med)}`);
    console.log(
      `\nReadStdout calls per run: median ${median(readCounts)} (${(bytes / median(readCounts) / 1024).toFixed(1)} KiB per read)`,
    );
    console.log(
      `ratio berth / baseline throughput: ${(tp / tb).toFixed(3)} (target ≥ 0.5); berth / host dd | cat: ${(tr / tb).toFixed(3)}`,
    );
    console.log(
      `\nagent RSS during the run: median ${median(rss).toFixed(1)} MiB, max ${Math.max(...rss).toFixed(1)} MiB`,
    );

    await rpc.call("removeContainer", { containerId: id }, T);
    await rpc.call("destroySandbox", {}, T);
  } finally {
    await stop();
  }
}

await main();
