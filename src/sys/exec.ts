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

type FailureDetails = Omit<ConstructorParameters<typeof CommandError>[2], "argv">;

const failure = (argv: readonly string[], code: Code, why: string, d: FailureDetails, cause?: unknown) =>
  new CommandError(code, `${quote(argv)}: ${why}`, { argv, ...d }, cause);

const NOT_RUN = { exitCode: null, signal: null, stderr: "" } as const;

/** A command that could not be started (ENOENT: NOT_FOUND). */
function notStarted(argv: readonly string[], error: NodeJS.ErrnoException): CommandError {
  return failure(argv, AgentError.from(error).code, `cannot run: ${error.message}`, NOT_RUN, error);
}

/**
 * Runs a command given as an argv array (never through a shell), with a timeout, an AbortSignal and
 * bounded output. Resolves with its output when it exits 0; rejects with a CommandError otherwise.
 * The command is started by posix_spawn (native spawnProcess), whose cost does not grow with the agent's
 * memory as Node's fork does, and its exit is seen on its pidfd; its stdio is the fds given, else pipes
 * (stdout, stderr; stdin when there is input) or /dev/null (stdin without input).
 */
export async function runCommand(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [file] = argv;
  if (!file) throw new AgentError(Code.INVALID_ARGUMENT, "empty command");
  const env = options.env ?? process.env;
  let path: string;
  try {
    path = await programPath(file, env);
  } catch (error) {
    throw notStarted(argv, error as NodeJS.ErrnoException);
  }
  return run(argv, path, env, options);
}

/** Pipes for the streams the caller gave no fd for: [read end, write end] each, or none. */
function makePipes(options: RunOptions) {
  const made: number[] = [];
  const pipe = () => {
    const ends = native().pipe();
    made.push(...ends);
    return ends;
  };
  const stdio = options.stdio ?? {};
  try {
    return {
      input: stdio.stdin === undefined && options.input !== undefined ? pipe() : undefined,
      stdout: stdio.stdout === undefined ? pipe() : undefined,
      stderr: stdio.stderr === undefined ? pipe() : undefined,
    };
  } catch (error) {
    for (const fd of made) closeSync(fd);
    throw error;
  }
}

function run(
  argv: readonly string[],
  path: string,
  env: NodeJS.ProcessEnv,
  options: RunOptions,
): Promise<RunResult> {
  const { timeoutMs = 60_000, maxOutputBytes = 1 << 20, stdio = {} } = options;
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(failure(argv, Code.CANCELLED, "aborted before it started", NOT_RUN));
      return;
    }
    const pipes = makePipes(options);
    const outputs = [pipes.stdout, pipes.stderr];
    const childEnds = [pipes.input?.[0], ...outputs.map((p) => p?.[1])].filter((fd) => fd !== undefined);
    const parentEnds = [pipes.input?.[1], ...outputs.map((p) => p?.[0])].filter((fd) => fd !== undefined);
    devNull ??= openSync("/dev/null", "r+");
    const fds = Int32Array.of(
      stdio.stdin ?? pipes.input?.[0] ?? devNull,
      stdio.stdout ?? pipes.stdout?.[1] ?? devNull,
      stdio.stderr ?? pipes.stderr?.[1] ?? devNull,
    );
    const envList = Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
    let pid: number;
    let pidfd: number;
    try {
      [pid, pidfd] = native().spawnProcess(
        path,
        argv,
        envList,
        fds,
        options.cwd ?? null,
        options.processGroup === true,
      );
    } catch (error) {
      for (const fd of [...childEnds, ...parentEnds]) closeSync(fd);
      if ((error as NodeJS.ErrnoException).code === "ENOENT") programs.clear();
      reject(notStarted(argv, error as NodeJS.ErrnoException));
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
        if (out[name].length < maxOutputBytes) out[name] += text.slice(0, maxOutputBytes - out[name].length);
      });
      stream.on("error", () => {});
      stream.once("close", () => {
        open--;
        settle();
      });
    });
    if (pipes.input) {
      const stream = pipeEnd(pipes.input[1], false);
      stream.on("error", () => {});
      stream.end(options.input ?? "");
    }

    let exit: { exitCode: number | null; signal: NodeJS.Signals | null } | undefined;
    let ended: { code: Code; why: string } | undefined;
    const kill = (target: number) => {
      try {
        process.kill(target, "SIGKILL");
        return true;
      } catch {
        return false;
      }
    };
    const stop = (code: Code, why: string) => {
      ended ??= { code, why };
      if (exit) return;
      // A group whose members are all gone leaves its leader, not yet reaped, to kill by pid.
      if (!(options.processGroup && kill(-pid))) kill(pid);
    };
    const timer = setTimeout(
      () => stop(Code.DEADLINE_EXCEEDED, `timed out after ${timeoutMs} ms`),
      timeoutMs,
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
      if (ended) reject(failure(argv, ended.code, ended.why, details));
      else if (exit.exitCode === 0) resolve(out);
      else {
        const status = exit.signal ? `was killed by ${exit.signal}` : `exited with ${exit.exitCode}`;
        reject(failure(argv, Code.INTERNAL, stderr ? `${status}: ${stderr}` : status, details));
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
