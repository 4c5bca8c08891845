/**
 * npm run bench:startup — how fast berth-agent answers its first call and how much memory it holds idle,
 * next to the floor of its platform: a bare Node.js process (same flags) that only listens on a unix
 * socket and accepts. Runs take turns. Not part of the tests.
 *
 *   BENCH_RUNS=10 BENCH_IDLE_MS=2000 npm run bench:startup
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectTtrpc } from "../src/protocol/ttrpc/client.js";
import { AGENT_BIN } from "../test/support/agent-process.js";
import { median } from "../test/support/stats.js";

const runs = Number(process.env.BENCH_RUNS ?? 10);
const idleMs = Number(process.env.BENCH_IDLE_MS ?? 2000);

/**
 * The environment of an agent in a guest: PATH and nothing else. Some machines set NODE_EXTRA_CA_CERTS,
 * which makes every node read and parse a CA bundle at start (~20 ms and ~1 MiB here).
 */
const GUEST_ENV = { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin" };

const BARE_NODE = `require("node:net").createServer(() => {}).listen(process.argv[1]);`;

const rssMiB = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) / 1024;

async function until(ready: () => Promise<boolean>, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error("the process exited before it was ready");
    if (await ready()) return;
    await new Promise((r) => setTimeout(r, 1));
  }
}

const answersHealth = (socket: string) => async () => {
  try {
    const client = await connectTtrpc(socket);
    try {
      await client.call("grpc.Health", "Check", new Uint8Array(0), { timeoutMs: 1000 });
      return true;
    } finally {
      client.close();
    }
  } catch {
    return false;
  }
};

const accepts = (socket: string) => () =>
  new Promise<boolean>((resolve) => {
    const c = connect(socket, () => {
      c.destroy();
      resolve(true);
    });
    c.on("error", () => resolve(false));
  });

type Kind = "snapshot" | "bundle" | "node";

/** How each kind is started: the agent's launcher (its V8 start-up snapshot), its plain bundle, bare node. */
function command(kind: Kind, agentArgs: string[], socket: string): [string, string[]] {
  if (kind === "snapshot") return [AGENT_BIN, agentArgs];
  if (kind === "bundle") return [`${AGENT_BIN}.js`, agentArgs];
  return [process.execPath, ["--max-semi-space-size=1", "-e", BARE_NODE, socket]];
}

async function measure(kind: Kind): Promise<{ readyMs: number; rss: number }> {
  const dir = mkdtempSync(join(tmpdir(), "berth-startup-"));
  const socket = join(dir, "s.sock");
  writeFileSync(join(dir, "resolv.conf"), "");
  const started = performance.now();
  const agentArgs = [
    ...["--server-addr", `unix://${socket}`, "--log-level", "warn", "--run-dir", join(dir, "run")],
    ...["--sandbox-ns-dir", join(dir, "ns"), "--resolv-conf", join(dir, "resolv.conf")],
    ...["--runc-root", join(dir, "runc")],
  ];
  const [file, args] = command(kind, agentArgs, socket);
  const child = spawn(file, args, { stdio: "ignore", env: GUEST_ENV });
  try {
    await until(kind === "node" ? accepts(socket) : answersHealth(socket), child);
    const readyMs = performance.now() - started;
    await new Promise((r) => setTimeout(r, idleMs));
    return { readyMs, rss: rssMiB(child.pid ?? -1) };
  } finally {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
}

const kinds: Kind[] = ["snapshot", "bundle", "node"];
const results = new Map<Kind, { readyMs: number; rss: number }[]>(kinds.map((k) => [k, []]));
for (let i = 0; i < runs; i++) for (const kind of kinds) results.get(kind)?.push(await measure(kind));
const row = (name: string, kind: Kind) => {
  const r = results.get(kind) ?? [];
  const ready = median(r.map((x) => x.readyMs));
  const rss = median(r.map((x) => x.rss));
  console.log(`${name.padEnd(48)} ${ready.toFixed(0).padStart(8)} ${rss.toFixed(1).padStart(12)}`);
  return { ready, rss };
};
console.log(`start-up, ${runs} runs each, taking turns; RSS after ${idleMs} ms idle\n`);
console.log(`${"what (exec → ready)".padEnd(48)} ${"ready ms".padStart(8)} ${"idle RSS MiB".padStart(12)}`);
const s = row("berth-agent, from its start-up snapshot", "snapshot");
const b = row("berth-agent.js, the plain bundle", "bundle");
const n = row("bare node listening on a socket (floor)", "node");
const ratio = (x: { ready: number; rss: number }) =>
  `ready ${(x.ready / n.ready).toFixed(2)}×, RSS ${(x.rss / n.rss).toFixed(2)}× (+${(x.rss - n.rss).toFixed(1)} MiB)`;
console.log(`\nsnapshot / floor: ${ratio(s)}\nbundle / floor:   ${ratio(b)}`);
console.log("ready = the agent answered Health.Check, bare node accepted a connection");
console.log("targets: ready < 100 ms, idle RSS < 45 MB");
