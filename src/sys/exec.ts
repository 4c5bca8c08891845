import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { stat } from "node:fs/promises";
import { Socket } from "node:net";
import { constants as osConstants } from "node:os";
import { AgentError, Code } from "../errors.js";
import { native } from "./native.js";

export interface RunOptions {
  /** Kill the command (SIGKILL) and fail with DEADLINE_EXCEEDED after this long (default 60 s). */
  timeoutMs?: number;
  signal?: AbortSignal | undefined;
  /** Written to the command's stdin, which is then closed. */
  input?: string | Uint8Array;
  /** Output kept per stream; the rest is dropped (default 1 MiB). */
  maxOutputBytes?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** File descriptors to hand the command as stdin, stdout and stderr instead of capturing them. */
  stdio?: { stdin?: number; stdout?: number; stderr?: number };
  /**
   * Run the command as the leader of a process group of its own, and kill the whole group at a timeout or
   * an abort: what the command started (runc's hooks) dies with it instead of living on as orphans.
   */
  processGroup?: boolean;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** A command that failed to start, exited non-zero, was killed, timed out or was aborted. */
export class CommandError extends AgentError {
  override name = "CommandError";
  readonly argv: readonly string[];
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;

  constructor(
    code: Code,
    message: string,
    details: {
      argv: readonly string[];
      exitCode: number | null;
      signal: NodeJS.Signals | null;
      stderr: string;
    },
    cause?: unknown,
  ) {
    super(code, message, cause === undefined ? undefined : { cause });
    this.argv = details.argv;
    this.exitCode = details.exitCode;
    this.signal = details.signal;
    this.stderr = details.stderr;
  }
}

const live = new Set<number>();

/**
 * Pids of the commands running now. Node reaps these itself, so the reaper must leave them alone: taking
 * their exit status would leave their `exit` event, and whoever awaits the command, hanging.
 */
export function runningCommandPids(): ReadonlySet<number> {
  return live;
}

const quote = (argv: readonly string[]) =>
  argv.map((a) => (/^[\w./:=@+-]+$/.test(a) ? a : JSON.stringify(a))).join(" ");

function trimmed(text: string): string {
  const t = text.trim();
  return t.length > 2000 ? `${t.slice(0, 2000)}…` : t;
}

/** The path of each program run by name, per PATH: a PATH search costs an execve per directory before it. */
const programs = new Map<string, string>();

async function programPath(file: string, env: NodeJS.ProcessEnv): Promise<string> {
  if (file.includes("/")) return file;
  const key = `${env.PATH ?? ""}\0${file}`;
  const known = programs.get(key);
  if (known) return known;
  for (const dir of (env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
    if (!dir) continue;
    const path = `${dir}/${file}`;
    const found = await stat(path).then(
      (s) => s.isFile() && (s.mode & 0o111) !== 0,
      () => false,
    );
    if (!found) continue;
    programs.set(key, path);
    return path;
  }
  throw Object.assign(new Error(`${file} is not in PATH`), { code: "ENOENT" });
}

let devNull: number | undefined;

/** The end of a pipe this process reads or writes, as a stream. */
function pipeEnd(fd: number, readable: boolean): Socket {
  return new Socket({ fd, readable, writable: !readable });
}

/**
 * Runs a command given as an argv array (never through a shell), with a timeout, an AbortSignal and
 * bounded output. Resolves with its output when it exits 0; rejects with a CommandError otherwise.
 * The command is started by posix_spawn (native spawnProcess), whose cost does not grow with the agent's
 * memory as Node's fork does, and its exit is seen on its pidfd; its stdio is the fds given, else pipes
 * (stdout, stderr; stdin when there is input) or /dev/null (stdin without input).
 */
export function runCommand(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (!file) return Promise.reject(new AgentError(Code.INVALID_ARGUMENT, "empty command"));
  const { timeoutMs = 60_000, maxOutputBytes = 1 << 20, stdio = {} } = options;
  const env = options.env ?? process.env;
  const fail = (
    code: Code,
    why: string,
    d: Omit<ConstructorParameters<typeof CommandError>[2], "argv">,
    cause?: unknown,
  ) => new CommandError(code, `${quote(argv)}: ${why}`, { argv, ...d }, cause);
  const notStarted = (error: NodeJS.ErrnoException) => {
    const { code } = AgentError.from(error);
    return fail(code, `cannot run: ${error.message}`, { exitCode: null, signal: null, stderr: "" }, error);
  };
  if (options.signal?.aborted) {
    return Promise.reject(
      fail(Code.CANCELLED, "aborted before it started", { exitCode: null, signal: null, stderr: "" }),
    );
  }
  return programPath(file, env).then(
    (path) => run(path, file, args, env, options, { timeoutMs, maxOutputBytes, stdio }, fail, notStarted),
    (error: NodeJS.ErrnoException) => {
      throw notStarted(error);
    },
  );
}

type Fail = (
  code: Code,
  why: string,
  d: Omit<ConstructorParameters<typeof CommandError>[2], "argv">,
  cause?: unknown,
) => CommandError;

function run(
  path: string,
  file: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  options: RunOptions,
  o: { timeoutMs: number; maxOutputBytes: number; stdio: NonNullable<RunOptions["stdio"]> },
  fail: Fail,
  notStarted: (error: NodeJS.ErrnoException) => CommandError,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(fail(Code.CANCELLED, "aborted before it started", { exitCode: null, signal: null, stderr: "" }));
      return;
    }
    const input = o.stdio.stdin === undefined && options.input !== undefined ? native().pipe() : undefined;
    const outputs = (["stdout", "stderr"] as const).map((name) =>
      o.stdio[name] === undefined ? native().pipe() : undefined,
    );
    const childEnds = [input?.[0], ...outputs.map((p) => p?.[1])].filter((fd) => fd !== undefined);
    const parentEnds = [input?.[1], ...outputs.map((p) => p?.[0])].filter((fd) => fd !== undefined);
    devNull ??= openSync("/dev/null", "r+");
    const fds = Int32Array.of(
      o.stdio.stdin ?? input?.[0] ?? devNull,
      o.stdio.stdout ?? outputs[0]?.[1] ?? devNull,
      o.stdio.stderr ?? outputs[1]?.[1] ?? devNull,
    );
    const envList = Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
    let pid: number;
    let pidfd: number;
    try {
      [pid, pidfd] = native().spawnProcess(
        path,
        [file, ...args],
        envList,
        fds,
        options.cwd ?? null,
        options.processGroup === true,
      );
    } catch (error) {
      for (const fd of [...childEnds, ...parentEnds]) closeSync(fd);
      if ((error as NodeJS.ErrnoException).code === "ENOENT") programs.clear();
      reject(notStarted(error as NodeJS.ErrnoException));
      return;
    }
    for (const fd of childEnds) closeSync(fd);
    live.add(pid);

    const out = { stdout: "", stderr: "" };
    let open = 0;
    (["stdout", "stderr"] as const).forEach((name, i) => {
      const fd = outputs[i]?.[0];
      if (fd === undefined) return;
      open++;
      const stream = pipeEnd(fd, true);
      stream.setEncoding("utf8");
      stream.on("data", (text: string) => {
        if (out[name].length < o.maxOutputBytes)
          out[name] += text.slice(0, o.maxOutputBytes - out[name].length);
      });
      stream.on("error", () => {});
      stream.once("close", () => {
        open--;
        settle();
      });
    });
    if (input) {
      const stream = pipeEnd(input[1], false);
      stream.on("error", () => {});
      stream.end(options.input ?? "");
    }

    let exit: { exitCode: number | null; signal: NodeJS.Signals | null } | undefined;
    let ended: { code: Code; why: string } | undefined;
    const stop = (code: Code, why: string) => {
      ended ??= { code, why };
      if (exit) return;
      try {
        process.kill(options.processGroup ? -pid : pid, "SIGKILL");
      } catch {
        // gone already (a group's leader may be gone while its group lives on: then the leader itself is)
        if (options.processGroup) process.kill(pid, "SIGKILL");
      }
    };
    const timer = setTimeout(
      () => stop(Code.DEADLINE_EXCEEDED, `timed out after ${o.timeoutMs} ms`),
      o.timeoutMs,
    );
    const onAbort = () => stop(Code.CANCELLED, "aborted");
    options.signal?.addEventListener("abort", onAbort, { once: true });
    // The pidfd's poll does not keep the event loop alive: this does, until the exit is in.
    const running = setInterval(() => {}, 1 << 30);
    const watch = native().pollFd(pidfd, native().constants.POLL_READABLE, () => {
      const status = native().reapProcess(pid);
      if (!status) return;
      watch.stop();
      clearInterval(running);
      closeSync(pidfd);
      live.delete(pid);
      const [code, signal] = status;
      exit = { exitCode: code < 0 ? null : code, signal: signal < 0 ? null : signalName(signal) };
      settle();
    });
    function settle() {
      if (!exit || open > 0) return;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      const stderr = trimmed(out.stderr);
      const details = { ...exit, stderr };
      if (ended) reject(fail(ended.code, ended.why, details));
      else if (exit.exitCode === 0) resolve(out);
      else {
        const status = exit.signal ? `was killed by ${exit.signal}` : `exited with ${exit.exitCode}`;
        reject(fail(Code.INTERNAL, stderr ? `${status}: ${stderr}` : status, details));
      }
    }
  });
}

const SIGNAL_NAMES = new Map(
  Object.entries(osConstants.signals).map(([name, n]) => [n, name as NodeJS.Signals]),
);

function signalName(signal: number): NodeJS.Signals | null {
  return SIGNAL_NAMES.get(signal) ?? null;
}

export interface DetachedCommand {
  readonly pid: number;
  /** Settles when the command fails to start or exits, with why; never rejects. */
  readonly ended: Promise<Error>;
}

/**
 * Starts a daemon: a command in a session of its own, its output to `logFd`, that lives on after this
 * process exits (nothing here waits for it or keeps the loop alive for it). Resolves once it has started.
 */
export function spawnDetached(argv: readonly string[], logFd: number): Promise<DetachedCommand> {
  const [file, ...args] = argv;
  if (!file) return Promise.reject(new AgentError(Code.INVALID_ARGUMENT, "empty command"));
  const child = spawn(file, args, { detached: true, stdio: ["ignore", logFd, logFd] });
  const ended = new Promise<Error>((resolve) => {
    child.once("error", (error) => resolve(new Error(`cannot run ${quote(argv)}: ${error.message}`)));
    child.once("exit", (code, signal) =>
      resolve(new Error(`${file} exited (${signal ?? `status ${code}`})`)),
    );
  });
  child.unref();
  return new Promise((resolve, reject) => {
    child.once("spawn", () => resolve({ pid: child.pid as number, ended }));
    child.once("error", (error) => reject(AgentError.wrap(error, `cannot run ${quote(argv)}`)));
  });
}
