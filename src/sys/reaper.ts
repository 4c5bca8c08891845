import { runningCommandPids } from "./exec.js";
import { native } from "./native.js";
import { processExists } from "./process-exists.js";

/** How a process ended: its exit code, or the signal that killed it. */
export interface ExitStatus {
  readonly exitCode: number | null;
  readonly signal: number | null;
}

/** The status Kata reports for an exit: the exit code, or 128 + the signal number. */
export function statusCode(exit: ExitStatus): number {
  return exit.signal !== null ? 128 + exit.signal : (exit.exitCode ?? 0);
}

export interface ReaperOptions {
  /** Exits of processes nobody watched yet, kept for a watcher that comes late (default 4096). */
  unclaimedLimit?: number;
  /** Told about every reaped process; for logging orphans. */
  onReap?: (pid: number, exit: ExitStatus, watched: boolean) => void;
}

/**
 * The one owner of exits. berth is a child subreaper (or PID 1), so container processes, which runc leaves
 * behind, and every orphan beneath them become its children; on SIGCHLD this reaps all of them, except the
 * commands Node's child_process is running (Node reaps those itself). Each exit goes to its watchers; an
 * exit nobody watches yet is kept (bounded), so a watcher registered just after the process died still
 * gets it. No zombie stays behind.
 */
export class Reaper {
  readonly #watchers = new Map<number, ((exit: ExitStatus) => void)[]>();
  readonly #unclaimed = new Map<number, ExitStatus>();
  readonly #limit: number;
  readonly #onReap: ReaperOptions["onReap"];
  #retry: NodeJS.Immediate | NodeJS.Timeout | undefined;
  #retries = 0;
  /** Held while someone waits for an exit: signal handlers alone do not keep Node's event loop alive. */
  #keepAlive: NodeJS.Timeout | undefined;
  readonly #onSigchld = () => this.reap();

  constructor(options: ReaperOptions = {}) {
    this.#limit = options.unclaimedLimit ?? 4096;
    this.#onReap = options.onReap;
  }

  /** Becomes a child subreaper and starts reaping on SIGCHLD. */
  start(): this {
    native().setChildSubreaper();
    process.on("SIGCHLD", this.#onSigchld);
    this.reap();
    return this;
  }

  stop(): void {
    process.off("SIGCHLD", this.#onSigchld);
    if (this.#retry) clearTimeout(this.#retry as NodeJS.Timeout);
    clearInterval(this.#keepAlive);
  }

  /**
   * Resolves when `pid` has exited and been reaped, even if that happened a moment ago. A kept exit is
   * only taken while no process holds the pid, since an older process may have had the same pid.
   */
  wait(pid: number): Promise<ExitStatus> {
    const done = this.#unclaimed.get(pid);
    if (done) {
      this.#unclaimed.delete(pid);
      if (!processExists(pid)) return Promise.resolve(done);
    }
    return new Promise((resolve) => {
      const list = this.#watchers.get(pid);
      if (list) list.push(resolve);
      else this.#watchers.set(pid, [resolve]);
      this.#keepAlive ??= setInterval(() => {}, 1 << 30);
    });
  }

  /** Reaps every exited child that is not one of Node's running commands. */
  reap(): void {
    const excluded = Int32Array.from(runningCommandPids());
    const { reaped, blocked } = native().reapChildren(excluded);
    for (const [pid, exitCode, signal] of reaped) {
      this.#deliver(pid, { exitCode: exitCode < 0 ? null : exitCode, signal: signal < 0 ? null : signal });
    }
    if (blocked) this.#retryLater();
    else this.#retries = 0;
  }

  /**
   * A command of Node's exited first in line: Node collects it within this turn of the event loop, so look
   * again right after, then back off, until the rest can be seen.
   */
  #retryLater() {
    if (this.#retry) return;
    const again = () => {
      this.#retry = undefined;
      this.reap();
    };
    this.#retries++;
    this.#retry =
      this.#retries < 5 ? setImmediate(again) : setTimeout(again, Math.min(100, 2 ** this.#retries));
  }

  #deliver(pid: number, exit: ExitStatus) {
    const watchers = this.#watchers.get(pid);
    this.#onReap?.(pid, exit, watchers !== undefined);
    if (watchers) {
      this.#watchers.delete(pid);
      if (this.#watchers.size === 0) {
        clearInterval(this.#keepAlive);
        this.#keepAlive = undefined;
      }
      for (const resolve of watchers) resolve(exit);
      return;
    }
    this.#unclaimed.set(pid, exit);
    if (this.#unclaimed.size > this.#limit) {
      const oldest = this.#unclaimed.keys().next().value;
      if (oldest !== undefined) this.#unclaimed.delete(oldest);
    }
  }
}
