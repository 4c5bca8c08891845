/**
 * npm run bench:rpc — Health.Check round trips over one shared connection, driven by the same Go client
 * (containerd/ttrpc 1.1.1 or grpc-go 1.33, from Debian) against berth and against the stock Go servers, in one
 * run, side by side. Not part of the tests.
 *
 * Each cell runs BENCH_ROUNDS times, berth and Go taking turns, and reports the medians: client and server
 * share this machine's CPUs, so single runs vary by ±20%.
 *
 *   BENCH_SECONDS=3 BENCH_ROUNDS=3 BENCH_CONCURRENCY=1,16,64 npm run bench:rpc
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAgent } from "../test/support/agent-process.js";
import { buildGoPeers } from "../test/support/interop-peers.js";
import { jsonLines, runCommand } from "../test/support/run-command.js";
import { median } from "../test/support/stats.js";

interface BenchResult {
  throughput: number;
  p50_us: number;
  p99_us: number;
  errors: number;
}

const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const concurrencies = (process.env.BENCH_CONCURRENCY ?? "1,16,64").split(",").map(Number);

function rssMiB(pid: number): number {
  const kib = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
  return kib / 1024;
}

async function startBaseline(binary: string, proto: string, socket: string): Promise<ChildProcess> {
  const child = spawn(binary, ["--proto", proto, "--addr", `unix://${socket}`], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.setEncoding("utf8").on("data", (text: string) => {
      if (text.includes("ready")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`berth-baseline --proto ${proto} exited with ${code}`)));
  });
  return child;
}

async function bench(peer: string, proto: string, socket: string, concurrency: number): Promise<BenchResult> {
  const args = [
    "bench",
    "--proto",
    proto,
    "--addr",
    `unix://${socket}`,
    "--concurrency",
    String(concurrency),
  ];
  const result = await runCommand(peer, [...args, "--duration", `${seconds}s`, "--warmup", "1s"], {
    timeoutMs: (seconds + 30) * 1000,
  });
  if (result.code !== 0)
    throw new Error(`berth-peer ${args.join(" ")} failed: ${result.stdout}${result.stderr}`);
  const [line] = jsonLines(result.stdout);
  return line as unknown as BenchResult;
}

const medianOf = (results: BenchResult[], key: keyof BenchResult) => median(results.map((r) => r[key]));

/** Runs the cell `rounds` times, berth and Go alternating, and keeps the median of each figure. */
async function cell(peer: string, proto: string, sockets: [string, string], concurrency: number) {
  const runs: [BenchResult[], BenchResult[]] = [[], []];
  for (let i = 0; i < rounds; i++) {
    for (const side of [0, 1] as const) runs[side].push(await bench(peer, proto, sockets[side], concurrency));
  }
  return runs.map((r) => ({
    throughput: medianOf(r, "throughput"),
    p50_us: medianOf(r, "p50_us"),
    p99_us: medianOf(r, "p99_us"),
    errors: r.reduce((sum, x) => sum + x.errors, 0),
  })) as [BenchResult, BenchResult];
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const pad = (s: string, n: number) => s.padStart(n);

async function main() {
  const peers = await buildGoPeers();
  const dir = mkdtempSync(join(tmpdir(), "berth-bench-"));
  const agent = await startAgent({ args: ["--log-level", "warn"] });
  await new Promise((resolve) => setTimeout(resolve, 500));
  const rssStart = agent.rssKiB() / 1024;
  const baselines = {
    ttrpc: await startBaseline(peers.baseline, "ttrpc", join(dir, "go-ttrpc.sock")),
    grpc: await startBaseline(peers.baseline, "grpc", join(dir, "go-grpc.sock")),
  };
  try {
    console.log(
      `Health.Check round trips, one shared connection; median of ${rounds} runs of ${seconds} s (after 1 s warm-up)`,
    );
    console.log(
      `node ${process.version}; berth pid ${agent.pid}; idle RSS after start ${fmt(rssStart, 1)} MiB\n`,
    );
    const header = `${"proto".padEnd(6)}${pad("in flight", 10)} | ${pad("berth calls/s", 14)}${pad("Go calls/s", 12)}${pad("ratio", 7)} | ${pad("berth p50", 10)}${pad("Go p50", 8)}${pad("ratio", 7)} | ${pad("berth p99", 10)}${pad("Go p99", 8)}`;
    console.log(header);
    console.log("-".repeat(header.length));
    for (const proto of ["ttrpc", "grpc"] as const) {
      const goSocket = join(dir, `go-${proto}.sock`);
      for (const c of concurrencies) {
        const [berth, go] = await cell(peers.peer, proto, [agent.socketPath, goSocket], c);
        console.log(
          `${proto.padEnd(6)}${pad(String(c), 10)} | ${pad(fmt(berth.throughput), 14)}${pad(fmt(go.throughput), 12)}${pad(fmt(berth.throughput / go.throughput, 2), 7)} | ` +
            `${pad(`${fmt(berth.p50_us)}µs`, 10)}${pad(`${fmt(go.p50_us)}µs`, 8)}${pad(fmt(berth.p50_us / go.p50_us, 2), 7)} | ` +
            `${pad(`${fmt(berth.p99_us)}µs`, 10)}${pad(`${fmt(go.p99_us)}µs`, 8)}` +
            (berth.errors + go.errors > 0 ? `  errors berth=${berth.errors} go=${go.errors}` : ""),
        );
      }
    }
    console.log(
      "\nthroughput ratio = berth / Go (above 1: berth faster); p50 ratio = berth / Go (below 1: berth faster)",
    );
    console.log(
      `RSS: berth ${fmt(rssStart, 1)} MiB after start, ${fmt(agent.rssKiB() / 1024, 1)} MiB after the run; ` +
        `Go ttrpc server ${fmt(rssMiB(baselines.ttrpc.pid ?? 0), 1)} MiB, Go gRPC server ${fmt(rssMiB(baselines.grpc.pid ?? 0), 1)} MiB`,
    );
  } finally {
    for (const b of Object.values(baselines)) b.kill("SIGTERM");
    await agent.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
