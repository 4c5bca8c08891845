import { mkdir, readFile, unlink } from "node:fs/promises";
import { removeEmptyCgroup } from "../cgroup/cgroup-kill.js";
import { AgentError, Code } from "../errors.js";
import { CommandError, type RunOptions, runCommand } from "../sys/exec.js";
import { readProcess } from "../sys/process-identity.js";
import { deleteStopped } from "./delete-stopped.js";
import { startByExecFifo } from "./exec-fifo.js";
import type { CallOptions, LaunchOptions, OciRuntime } from "./oci-runtime.js";
import { type CreateArgs, type ExecArgs, type RuncGlobals, runcArgs } from "./runc-args.js";
import { knowsRuncLayout } from "./runc-layout.js";
import { deleteHalfMade, isHalfMade } from "./runc-leftovers.js";

/** Tries of `runc pause` that meet runc's "unable to freeze". */
const PAUSE_ATTEMPTS = 3;

/** What `runc state` reports. */
export interface RuncState {
  id: string;
  pid: number;
  status: "creating" | "created" | "running" | "paused" | "stopped";
  bundle: string;
}

export interface RuncOptions {
  /** The runc binary (default: `runc` from PATH). */
  binary?: string;
  /** runc's state directory (`--root`). */
  root: string;
  /** Where each call's JSON log goes (default: `<root>/.logs`). */
  logDir?: string;
  timeoutMs?: number;
}

/** The last error runc logged, from its JSON log lines. */
export function lastRuncError(log: string): string | undefined {
  let found: string | undefined;
  for (const line of log.split("\n")) {
    if (!line.trim()) continue;
    try {
      const entry = JSON.parse(line) as { level?: unknown; msg?: unknown };
      if ((entry.level === "error" || entry.level === "fatal") && typeof entry.msg === "string") {
        found = entry.msg;
      }
    } catch {
      // runc writes one JSON object per line; a torn last line carries nothing we can use
    }
  }
  return found;
}

/** The pids `runc ps --format json` printed (`null` when there are none). */
export function pidsFromRuncPs(stdout: string): number[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    parsed = undefined;
  }
  if (parsed === null) return [];
  if (!Array.isArray(parsed) || !parsed.every((p) => Number.isSafeInteger(p) && p > 0)) {
    throw new AgentError(
      Code.INTERNAL,
      `runc ps printed ${JSON.stringify(stdout.slice(0, 200))}, not a pid list`,
    );
  }
  return parsed as number[];
}

function codeOf(message: string): Code {
  if (/container does not exist|not exist/i.test(message)) return Code.NOT_FOUND;
  if (/container with id exists|already exists/i.test(message)) return Code.ALREADY_EXISTS;
  if (/not (running|paused)|is not (created|paused)|cannot (start|delete|pause|resume)/i.test(message)) {
    return Code.FAILED_PRECONDITION;
  }
  return Code.INTERNAL;
}

/** Whether the init runc recorded in `stateDir` (state.json's init_process_pid) lives, not a zombie. */
async function initAlive(stateDir: string): Promise<boolean> {
  const state = JSON.parse(await readFile(`${stateDir}/state.json`, "utf8")) as {
    init_process_pid?: unknown;
  };
  const pid = state.init_process_pid;
  if (typeof pid !== "number" || !Number.isSafeInteger(pid) || pid <= 0) return false;
  return (await readProcess(pid)) !== undefined;
}

/** runc's own rule for ids; "." and ".." would name its root or above. */
const RUNC_ID = /^[\w+.-]+$/;

function checkRuncId(id: string): void {
  if (!RUNC_ID.test(id) || id === "." || id === "..") {
    throw new AgentError(Code.INVALID_ARGUMENT, `${JSON.stringify(id)} is not a runc container id`);
  }
}

/** What a call passes on to the command runner. */
const callOptions = (o: CallOptions | undefined): RunOptions => ({
  ...(o?.signal ? { signal: o.signal } : {}),
  ...(o?.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
});

const launchOptions = (o: LaunchOptions | undefined): RunOptions => ({
  ...callOptions(o),
  ...(o?.stdio ? { stdio: o.stdio } : {}),
});

/**
 * A typed client of runc, one method per verb. Every call logs JSON to its own file; when runc fails, its
 * last logged error (its own words) becomes the message of the AgentError. Each runc runs in a process
 * group of its own, so a timeout or an abort kills the hooks it runs along with it.
 */
export class Runc implements OciRuntime {
  readonly #binary: string;
  readonly #root: string;
  readonly #logDir: string;
  readonly #timeoutMs: number;
  #seq = 0;
  #logDirMade = false;
  #knowsLayout: Promise<boolean> | undefined;

  constructor(options: RuncOptions) {
    this.#binary = options.binary ?? "runc";
    this.#root = options.root;
    this.#logDir = options.logDir ?? `${options.root}/.logs`;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
  }

  /** `runc create`; the container's init gets `stdio` (runc hands its own stdio on) unless it has a terminal. */
  async create(id: string, args: CreateArgs, options?: LaunchOptions): Promise<void> {
    await this.#run(id, "create", (g) => runcArgs.create(g, id, args), launchOptions(options));
  }

  /** `runc exec --detach`; the process gets `stdio` unless it has a terminal. */
  async exec(id: string, args: ExecArgs, options?: LaunchOptions): Promise<void> {
    await this.#run(id, "exec", (g) => runcArgs.exec(g, id, args), launchOptions(options));
  }

  /**
   * `runc start`, or what it does, done here without a runc process (5 ms a start here) when this runc's
   * start is only the read of its exec FIFO (see knowsRuncLayout).
   */
  async start(id: string, options?: CallOptions): Promise<void> {
    checkRuncId(id);
    if (await this.#knowsRuncLayout()) {
      const stateDir = `${this.#root}/${id}`;
      await startByExecFifo(stateDir, {
        signal: options?.signal,
        timeoutMs: options?.timeoutMs ?? this.#timeoutMs,
        initAlive: () => initAlive(stateDir),
      });
      return;
    }
    await this.#run(id, "start", (g) => runcArgs.start(g, id), callOptions(options));
  }

  /** Whether this runc's files are those berth knows (knowsRuncLayout), asked of `runc --version` once. */
  #knowsRuncLayout(): Promise<boolean> {
    this.#knowsLayout ??= runCommand([this.#binary, "--version"], { timeoutMs: this.#timeoutMs }).then(
      ({ stdout }) => knowsRuncLayout(stdout),
      () => false,
    );
    return this.#knowsLayout;
  }

  async kill(id: string, signal: number, opts: CallOptions & { all?: boolean } = {}): Promise<void> {
    await this.#run(id, "kill", (g) => runcArgs.kill(g, id, signal, opts.all ?? false), callOptions(opts));
  }

  async delete(id: string, opts: CallOptions & { force?: boolean } = {}): Promise<void> {
    await this.#run(id, "delete", (g) => runcArgs.delete(g, id, opts.force ?? false), callOptions(opts));
  }

  /**
   * Removes whatever runc holds or left of container `id`. A container runc knows (its state dir has a
   * state.json) is deleted as `runc delete --force` does: killed, poststop hooks run, cgroups and state
   * removed; by berth itself when it is stopped and runc would do no more than remove its cgroups and
   * state (deleteStopped, with a runc berth knows), else by runc, after which each of `cgroups` runc left
   * is removed once empty (runc 1.1 gives up on a cgroup the kernel still holds busy for a moment). One
   * that a killed `runc create` left half made (a state dir without state.json, which runc itself calls
   * "does not exist") loses the processes in the cgroups runc made for it, those cgroups (the cgroups
   * path from `bundle`/config.json, else runc's default for the id) and its state dir; one whose create
   * returned (`created`) cannot be, and is not looked at for it. An id with nothing left is no error, so
   * restart recovery can call this for every id in runc's root. Resolves with the cgroups left in use.
   */
  async deleteLeftovers(
    id: string,
    opts: { bundle?: string | undefined; created?: boolean; cgroups?: readonly string[] } = {},
  ): Promise<string[]> {
    checkRuncId(id);
    const stateDir = `${this.#root}/${id}`;
    const cgroups = opts.cgroups ?? [];
    if (!opts.created && (await isHalfMade(stateDir))) {
      await deleteHalfMade(id, stateDir, opts.bundle);
    } else if ((await this.#knowsRuncLayout()) && (await deleteStopped(stateDir, cgroups))) {
      return [];
    } else {
      await this.delete(id, { force: true }).catch((error: unknown) => {
        if (AgentError.from(error).code !== Code.NOT_FOUND) throw error;
      });
    }
    const gone = await Promise.all(cgroups.map((dir) => removeEmptyCgroup(dir)));
    return cgroups.filter((_, i) => !gone[i]);
  }

  async state(id: string): Promise<RuncState> {
    const stdout = await this.#run(id, "state", (g) => runcArgs.state(g, id));
    return JSON.parse(stdout) as RuncState;
  }

  /** `runc features` (runc 1.1 and later): what this runc build supports, as runc's JSON. */
  async features(): Promise<unknown> {
    return JSON.parse(await this.#run("", "features", (g) => runcArgs.features(g)));
  }

  /**
   * Freezes every process of the container (`runc pause`). runc's cgroup v1 freezer gives up ("unable to
   * freeze", the cgroup left thawed) when tasks keep forking through its retries: tried again, a few times.
   */
  async pause(id: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#run(id, "pause", (g) => runcArgs.pause(g, id));
        return;
      } catch (error) {
        if (attempt >= PAUSE_ATTEMPTS || !/unable to freeze/.test(String((error as Error).message)))
          throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  async resume(id: string): Promise<void> {
    await this.#run(id, "resume", (g) => runcArgs.resume(g, id));
  }

  /**
   * `runc update` with `resources`, OCI LinuxResources JSON. A value the kernel refuses is INVALID_ARGUMENT
   * (e.g. swap below the memory limit), a limit below what is in use FAILED_PRECONDITION.
   */
  async update(id: string, resources: string): Promise<void> {
    await this.#run(id, "update", (g) => runcArgs.update(g, id), { input: resources }).catch(
      (error: unknown) => {
        const e = AgentError.from(error);
        const code = /invalid argument|out of range/i.test(e.message)
          ? Code.INVALID_ARGUMENT
          : /resource busy/i.test(e.message)
            ? Code.FAILED_PRECONDITION
            : e.code;
        throw code === e.code ? e : new AgentError(code, e.message, { cause: error });
      },
    );
  }

  /** The pids of the container's processes, as the agent's PID namespace sees them. */
  async pids(id: string): Promise<number[]> {
    return pidsFromRuncPs(await this.#run(id, "ps", (g) => runcArgs.ps(g, id)));
  }

  async #run(
    id: string,
    verb: string,
    build: (g: RuncGlobals) => string[],
    options: RunOptions = {},
  ): Promise<string> {
    const logDir = this.#logDir;
    if (!this.#logDirMade) {
      await mkdir(logDir, { recursive: true, mode: 0o700 });
      this.#logDirMade = true;
    }
    const log = `${logDir}/${id}.${verb}.${++this.#seq}.json`;
    const argv = [this.#binary, ...build({ root: this.#root, log })];
    try {
      return (await runCommand(argv, { timeoutMs: this.#timeoutMs, processGroup: true, ...options })).stdout;
    } catch (error) {
      const said = lastRuncError(await readFile(log, "utf8").catch(() => ""));
      if (!said || !(error instanceof CommandError) || error.exitCode === null) throw error;
      throw new AgentError(codeOf(said), `runc ${[verb, id].filter(Boolean).join(" ")}: ${said}`, {
        cause: error,
      });
    } finally {
      await unlink(log).catch(() => {});
    }
  }
}
