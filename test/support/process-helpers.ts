/**
 * Helpers shared by the process integration tests (test/integration/process-*.test.ts) and the exec
 * benches (bench/exec-*.ts): ExecProcess/WaitProcess/SignalProcess and stdio calls with deadlines,
 * containers that clean up after themselves, and what /proc and the cgroups say about processes.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAgent } from "./agent-process.js";
import { AgentRpc } from "./agent-rpc.js";
import { makeBusyboxRootfs } from "./busybox-rootfs.js";
import type { containerSpec } from "./container-spec.js";
import { cgroupDirs, childrenOf, procStat } from "./leftovers.js";

/** Every call gets a deadline, so a call the agent never answers fails the test instead of hanging it. */
export const T = 15_000;

/**
 * What the helpers need of a test's Fixture (which has both) or a bench: the RPC client, and a container
 * spec whose process settings execs reuse with their own arguments.
 */
export interface ProcessHost {
  readonly rpc: AgentRpc;
  spec(args: string[]): ReturnType<typeof containerSpec>;
}

export type Stream = "readStdout" | "readStderr";

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A process spec for ExecProcess: the container's own process settings with other arguments. */
export const processSpec = (h: ProcessHost, args: string[], terminal = false) => ({
  ...h.spec(args).Process,
  Args: args,
  Terminal: terminal,
});

/** ExecProcess of `args` as `execId` in `containerId`, with a pty when `terminal`. */
export const exec = (
  h: ProcessHost,
  containerId: string,
  execId: string,
  args: string[],
  { terminal = false, timeoutMs = T }: { terminal?: boolean; timeoutMs?: number } = {},
) => h.rpc.call("execProcess", { containerId, execId, process: processSpec(h, args, terminal) }, timeoutMs);

/** WaitProcess; returns the exit status. */
export const waitFor = async (h: ProcessHost, containerId: string, execId: string, timeoutMs = T) =>
  (await h.rpc.call("waitProcess", { containerId, execId }, timeoutMs)).status;

/** SignalProcess: `sig` to exec `execId` (to every process of the container for '' and SIGKILL). */
export const signal = (h: ProcessHost, containerId: string, execId: string, sig: number) =>
  h.rpc.call("signalProcess", { containerId, execId, signal: sig }, T);

/** Reads a stream until EOF (empty data); every reply must respect `len`. */
export async function readAll(
  h: ProcessHost,
  stream: Stream,
  containerId: string,
  execId: string,
  { len = 64 << 10, timeoutMs = T }: { len?: number; timeoutMs?: number } = {},
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (;;) {
    const { data } = await h.rpc.call(stream, { containerId, execId, len }, timeoutMs);
    if (data.length === 0) return Buffer.concat(chunks);
    assert.ok(data.length <= len, `${stream} returned ${data.length} bytes for len ${len}`);
    chunks.push(Buffer.from(data));
  }
}

/** Reads stdout until `n` bytes have arrived (not until EOF). */
export async function readExactly(
  h: ProcessHost,
  containerId: string,
  execId: string,
  n: number,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let got = 0;
  while (got < n) {
    const { data } = await h.rpc.call("readStdout", { containerId, execId, len: n - got }, T);
    assert.ok(data.length > 0, `EOF after ${got} of ${n} bytes`);
    chunks.push(Buffer.from(data));
    got += data.length;
  }
  return Buffer.concat(chunks);
}

/**
 * One soak cycle: execs `echo i`; even cycles read stdout and stderr to EOF before waiting, odd ones wait
 * without reading (WaitProcess must still close the unread pipes). Fails unless it echoed and exited 0.
 */
export async function echoCycle(h: ProcessHost, containerId: string, i: number, timeoutMs = T) {
  const execId = `soak-${i}`;
  await exec(h, containerId, execId, ["echo", String(i)], { timeoutMs });
  if (i % 2 === 0) {
    const [out, err] = await Promise.all([
      readAll(h, "readStdout", containerId, execId, { timeoutMs }),
      readAll(h, "readStderr", containerId, execId, { timeoutMs }),
    ]);
    assert.equal(out.toString(), `${i}\n`);
    assert.equal(err.toString(), "");
  }
  assert.equal(await waitFor(h, containerId, execId, timeoutMs), 0, `cycle ${i}`);
}

/**
 * Creates and starts container `id` (init: `init`, its CreateContainer exec id `createExecId`), runs
 * `body`, and removes the container whatever happened; when `body` succeeded, nothing may be left.
 */
export async function inContainer(
  f: ProcessHost & { assertNoContainerLeft(ids: string[]): void },
  id: string,
  body: () => Promise<void>,
  init: string[] = ["sleep", "1000"],
  createExecId = id,
) {
  await f.rpc.call("createContainer", { containerId: id, execId: createExecId, OCI: f.spec(init) }, T);
  let ok = false;
  try {
    await f.rpc.call("startContainer", { containerId: id }, T);
    await body();
    ok = true;
  } finally {
    const removal = f.rpc.call("removeContainer", { containerId: id }, T);
    if (ok) {
      await removal;
      f.assertNoContainerLeft([id]);
    } else await removal.catch(() => {});
  }
}

/** Whether `promise` is still pending after `ms`. */
export async function stillPending(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const pending = Symbol("pending");
  const outcome = await Promise.race([promise.catch(() => undefined), sleep(ms).then(() => pending)]);
  return outcome === pending;
}

/** The file's text, or "" when it cannot be read (yet). */
export function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** Live (not zombie) processes in the container's cgroups. */
export function livePids(containerId: string): number[] {
  const dirs = cgroupDirs(containerId);
  assert.ok(dirs.length > 0, `no cgroup for ${containerId}`);
  const pids = new Set<number>();
  for (const dir of dirs) {
    try {
      for (const line of readFileSync(join(dir, "cgroup.procs"), "utf8").split("\n"))
        if (line) pids.add(Number(line));
    } catch {
      // a controller without cgroup.procs, or the cgroup is going away
    }
  }
  return [...pids].filter((pid) => {
    const state = procStat(pid)?.state;
    return state !== undefined && state !== "Z";
  });
}

/** Waits until exactly `count` processes (e.g. just the init) are alive in the container. */
export async function untilLive(containerId: string, count: number, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (livePids(containerId).length !== count) {
    assert.ok(Date.now() < deadline, `still ${livePids(containerId).length} live processes, want ${count}`);
    await sleep(20);
  }
}

/** How many fds process `pid` has open. */
export const fdCount = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

/** Zombie children of `pid`, as [pid, comm]. */
export const zombieChildren = (pid: number) =>
  childrenOf(pid).filter(([child]) => procStat(child)?.state === "Z");

/**
 * For the benches: a busybox rootfs in a fresh temporary directory `berth-bench-<name>-*`, an agent in its
 * own mount and network namespaces logging warnings only, and a client connected to it; `stop` closes the
 * client, stops the agent and removes the directory.
 */
const TMPFS_MAGIC = 0x01021994;

/**
 * Where a benchmark keeps its agent's run dir and runc root, and the baseline's: a tmpfs, as a Kata guest's
 * /run is (/dev/shm here; this machine's /tmp and /run are ext4, where a mkdir costs 0.25-1 ms), unless
 * BENCH_TMP names another place.
 */
export function benchTmp(): string {
  const chosen = process.env.BENCH_TMP;
  if (chosen) return chosen;
  try {
    if (statfsSync("/dev/shm").type === TMPFS_MAGIC) return "/dev/shm";
  } catch {
    // no /dev/shm
  }
  return tmpdir();
}

export async function startBenchAgent(name: string) {
  const base = benchTmp();
  const dir = mkdtempSync(join(base, `berth-bench-${name}-`));
  const rootfs = makeBusyboxRootfs(join(dir, "rootfs"));
  const agent = await startAgent({
    netns: true,
    args: ["--log-level", "warn"],
    dir: mkdtempSync(join(base, "berth-agent-")),
  });
  const rpc = await AgentRpc.connect(agent.socketPath);
  const stop = async () => {
    rpc.close();
    await agent.stop();
    rmSync(agent.dir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  };
  return { dir, rootfs, agent, rpc, stop };
}
