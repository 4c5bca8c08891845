import { spawn } from "node:child_process";
import { AgentError, Code } from "../errors.js";

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

/**
 * Runs a command given as an argv array (never through a shell), with a timeout, an AbortSignal and
 * bounded output. Resolves with its output when it exits 0; rejects with a CommandError otherwise.
 */
export function runCommand(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (!file) return Promise.reject(new AgentError(Code.INVALID_ARGUMENT, "empty command"));
  const { timeoutMs = 60_000, maxOutputBytes = 1 << 20, stdio = {} } = options;
  const fail = (
    code: Code,
    why: string,
    d: Omit<ConstructorParameters<typeof CommandError>[2], "argv">,
    cause?: unknown,
  ) => new CommandError(code, `${quote(argv)}: ${why}`, { argv, ...d }, cause);

  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(fail(Code.CANCELLED, "aborted before it started", { exitCode: null, signal: null, stderr: "" }));
      return;
    }
    const child = spawn(file, args, {
      stdio: [stdio.stdin ?? "pipe", stdio.stdout ?? "pipe", stdio.stderr ?? "pipe"],
      env: options.env ?? process.env,
      ...(options.cwd ? { cwd: options.cwd } : {}),
      ...(options.processGroup ? { detached: true } : {}),
    });
    const pid = child.pid;
    if (pid !== undefined) live.add(pid);
    const out = { stdout: "", stderr: "" };
    for (const name of ["stdout", "stderr"] as const) {
      child[name]?.setEncoding("utf8").on("data", (text: string) => {
        if (out[name].length < maxOutputBytes) out[name] += text.slice(0, maxOutputBytes - out[name].length);
      });
    }
    let ended: { code: Code; why: string } | undefined;
    const stop = (code: Code, why: string) => {
      ended ??= { code, why };
      if (options.processGroup && pid !== undefined) {
        try {
          process.kill(-pid, "SIGKILL");
          return;
        } catch {
          // the group is gone already; the child itself may still be there
        }
      }
      child.kill("SIGKILL");
    };
    const timer = setTimeout(
      () => stop(Code.DEADLINE_EXCEEDED, `timed out after ${timeoutMs} ms`),
      timeoutMs,
    );
    const onAbort = () => stop(Code.CANCELLED, "aborted");
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const finish = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      if (pid !== undefined) live.delete(pid);
    };

    child.once("error", (error: NodeJS.ErrnoException) => {
      finish();
      const { code } = AgentError.from(error);
      reject(fail(code, `cannot run: ${error.message}`, { exitCode: null, signal: null, stderr: "" }, error));
    });
    child.once("close", (exitCode, signal) => {
      finish();
      const stderr = trimmed(out.stderr);
      const details = { exitCode, signal, stderr };
      if (ended) reject(fail(ended.code, ended.why, details));
      else if (exitCode === 0) resolve(out);
      else {
        const status = signal ? `was killed by ${signal}` : `exited with ${exitCode}`;
        reject(fail(Code.INTERNAL, stderr ? `${status}: ${stderr}` : status, details));
      }
    });
    if (child.stdin) {
      child.stdin.on("error", () => {});
      child.stdin.end(options.input ?? "");
    }
  });
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
