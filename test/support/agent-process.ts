import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connectTtrpc } from "../../src/protocol/ttrpc/client.js";

export const AGENT_BIN = fileURLToPath(new URL("../../bin/berth-agent", import.meta.url));

export interface LogLine {
  msg?: string;
  level?: string;
  [key: string]: unknown;
}

export interface AgentProcess {
  readonly pid: number;
  /** The unix socket path the agent serves (unless another address was given). */
  readonly socketPath: string;
  readonly dir: string;
  readonly logs: LogLine[];
  readonly stderr: () => string;
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Resident memory in KiB, from /proc/<pid>/status. */
  rssKiB(): number;
  /** Resolves with how the process ended, once it has. */
  wait(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * Sends `signal` (default SIGTERM) unless it has already ended, waits for the end, removes its directory.
   * Rejects if the agent logged an unhandled rejection or an uncaught exception: each is a bug it survived.
   */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartAgentOptions {
  /** The program to start (default: dist/bin/berth-agent, the launcher). */
  bin?: string;
  /** Extra arguments; `--server-addr` defaults to a unix socket in a fresh temporary directory. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /**
   * When the agent counts as started: "health" (default) once Health.Check answers on its unix socket,
   * "listening" once it logs that it listens (any address; needs info logs), "none" at once.
   */
  ready?: "health" | "listening" | "none";
  /** Also give the agent its own network namespace (for tests that change network settings). */
  netns?: boolean;
  /** Capabilities the agent must not have (setpriv drops them from its bounding set), e.g. ["sys_time"]. */
  withoutCapabilities?: string[];
  /**
   * The agent's directory (run dir, runc root, …), kept when it stops: a second agent given the same one
   * finds what the first left. Default: a fresh temporary directory, removed by stop().
   */
  dir?: string;
  /** A mount namespace (file, see persistentMountNamespace) to run in instead of a new one. */
  mountNamespace?: string;
}

/**
 * A mount namespace that outlives the agents run in it (a sleeping process holds it), so that a restarted
 * agent sees the mounts the one before it left. `close` ends the holder, and the namespace with it.
 */
export async function persistentMountNamespace(): Promise<{ file: string; close(): void }> {
  const holder = spawn("unshare", ["--mount", "--propagation", "private", "sleep", "infinity"], {
    stdio: "ignore",
  });
  const file = `/proc/${holder.pid}/ns/mnt`;
  const ours = readlinkSync("/proc/self/ns/mnt");
  for (let tries = 0; readlinkSync(file) === ours; tries++) {
    if (tries > 500) throw new Error("the namespace holder did not unshare its mount namespace");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { file, close: () => holder.kill("SIGKILL") };
}

async function waitForHealth(
  socketPath: string,
  hasExited: () => boolean,
  stderr: () => string,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (hasExited()) throw new Error(`berth-agent exited before answering Health.Check; stderr: ${stderr()}`);
    try {
      const client = await connectTtrpc(socketPath);
      try {
        await client.call("grpc.Health", "Check", new Uint8Array(0), { timeoutMs: 1000 });
        return;
      } finally {
        client.close();
      }
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`berth-agent did not answer Health.Check: ${String(error)}; stderr: ${stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/**
 * Starts berth-agent as its own process, in a private mount namespace (`unshare --mount`), logging at
 * debug level to a pipe, with every on-disk root (run dir, sandbox-ns dir, resolv.conf, runc root) in
 * its temporary directory, and waits until it is ready.
 */
export async function startAgent(options: StartAgentOptions = {}): Promise<AgentProcess> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "berth-agent-"));
  const socketPath = join(dir, "agent.sock");
  const args = options.args ?? [];
  const addrArgs = args.includes("--server-addr") ? [] : ["--server-addr", `unix://${socketPath}`];
  const pathArgs = [
    ["--run-dir", join(dir, "run")],
    ["--sandbox-ns-dir", join(dir, "sandbox-ns")],
    ["--resolv-conf", join(dir, "resolv.conf")],
    ["--runc-root", join(dir, "runc")],
  ].flatMap(([flag, path]) => (args.includes(flag as string) ? [] : [flag as string, path as string]));
  writeFileSync(join(dir, "resolv.conf"), "nameserver 127.0.0.53\n");
  const dropped = (options.withoutCapabilities ?? []).map((c) => `-${c}`).join(",");
  const setpriv = dropped ? ["setpriv", "--bounding-set", dropped, "--inh-caps", dropped] : [];
  const namespaces = options.mountNamespace
    ? ["nsenter", `--mount=${options.mountNamespace}`, ...(options.netns ? ["unshare", "--net"] : [])]
    : ["unshare", "--mount", ...(options.netns ? ["--net"] : []), "--propagation", "private"];
  const [launcher = "", ...launcherArgs] = [...setpriv, ...namespaces];
  const child: ChildProcess = spawn(
    launcher,
    [...launcherArgs, options.bin ?? AGENT_BIN, "--log-level", "debug", ...addrArgs, ...pathArgs, ...args],
    { stdio: ["ignore", "pipe", "pipe"], env: options.env ?? process.env },
  );
  const logs: LogLine[] = [];
  let stderr = "";
  let waiters: (() => void)[] = [];
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const wake = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  let partial = "";
  child.stdout?.setEncoding("utf8").on("data", (text: string) => {
    const lines = (partial + text).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        logs.push({ msg: line });
      }
    }
    wake();
  });
  child.stderr?.setEncoding("utf8").on("data", (text: string) => {
    stderr += text;
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      exited = { code, signal };
      wake();
      resolve(exited);
    });
  });

  const waitForLog = async (match: (line: LogLine) => boolean, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = logs.find(match);
      if (found) return found;
      if (exited)
        throw new Error(
          `berth-agent exited (${JSON.stringify(exited)}) before the log line; stderr: ${stderr}`,
        );
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for a log line; stderr: ${stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  };

  const agent: AgentProcess = {
    pid: child.pid ?? -1,
    socketPath,
    dir,
    logs,
    stderr: () => stderr,
    waitForLog,
    rssKiB() {
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
    },
    wait: () => exit,
    async stop(signal = "SIGTERM") {
      if (!exited) child.kill(signal);
      const result = await exit;
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
      const bugs = logs.filter((l) => l.msg === "unhandled rejection" || l.msg === "uncaught exception");
      if (bugs.length > 0) throw new Error(`berth-agent survived bugs: ${JSON.stringify(bugs)}`);
      return result;
    },
  };
  const ready = options.ready ?? "health";
  if (ready !== "none") {
    try {
      if (ready === "listening") await waitForLog((line) => line.msg === "listening");
      else
        await waitForHealth(
          socketPath,
          () => exited !== undefined,
          () => stderr,
        );
    } catch (error) {
      await agent.stop("SIGKILL");
      throw error;
    }
  }
  return agent;
}
