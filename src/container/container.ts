import { rm, writeFile } from "node:fs/promises";
import { constants } from "node:os";
import type { CgroupDirs } from "../cgroup/cgroup-dirs.js";
import { AgentError, Code } from "../errors.js";
import { ContainerProcess } from "../process/container-process.js";
import { launchWithStdio, readPidFile } from "../process/launch.js";
import type { AgentDeps } from "../sandbox/agent-deps.js";
import type { CleanupStack } from "../sys/cleanup-stack.js";
import { statusCode } from "../sys/reaper.js";
import { waitWhileRuncInit } from "../sys/signals.js";
import { type ContainerState, checkMove } from "./container-state.js";
import { type ContainerStats, readContainerStats } from "./container-stats.js";
import type { Process } from "./oci-spec.js";
import { specToJson } from "./spec-json.js";

const { SIGKILL } = constants.signals;
let execSeq = 0;

/**
 * A container with explicit states (created → running ⇄ paused → stopped) and its processes. State
 * changes run one at a time per container; waits and stdio hold no lock.
 */
export class Container {
  readonly id: string;
  readonly bundle: string;
  readonly init: ContainerProcess;
  /** Where runc put the container, found once it was created; runc delete (RemoveContainer) removes it. */
  readonly cgroup: CgroupDirs;
  #state: ContainerState = "created";
  readonly #execs = new Map<string, ContainerProcess>();
  /** Exec ids being started: taken, though not yet processes. */
  readonly #starting = new Set<string>();
  readonly #undo: CleanupStack;
  readonly #deps: AgentDeps;
  #queue: Promise<unknown> = Promise.resolve();
  #removal: Promise<void> | undefined;

  constructor(d: {
    id: string;
    bundle: string;
    init: ContainerProcess;
    cgroup: CgroupDirs;
    undo: CleanupStack;
    deps: AgentDeps;
  }) {
    this.id = d.id;
    this.bundle = d.bundle;
    this.init = d.init;
    this.cgroup = d.cgroup;
    this.#undo = d.undo;
    this.#deps = d.deps;
    void d.init.exited.then((exit) => {
      this.#state = "stopped";
      d.deps.log.info(
        { container: this.id, pid: d.init.pid, status: statusCode(exit) },
        "container init exited",
      );
    });
  }

  get state(): ContainerState {
    return this.#state;
  }

  /** "", the container id and the exec id given at CreateContainer all name the init. */
  #namesInit(execId: string): boolean {
    return execId === "" || execId === this.id || execId === this.init.execId;
  }

  /** The process an exec id names. */
  process(execId: string): ContainerProcess {
    const found = this.#namesInit(execId) ? this.init : this.#execs.get(execId);
    if (!found || found.released) {
      throw new AgentError(
        Code.NOT_FOUND,
        `process ${JSON.stringify(execId)} of container ${this.id} not found`,
      );
    }
    return found;
  }

  /** Runs a state change after the ones before it. */
  #serial<T>(change: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(change);
    this.#queue = next.catch(() => {});
    return next;
  }

  /**
   * `runc start`, then a wait (usually none) until the program has replaced runc's init: runc returns a
   * moment before the exec, and a signal that came in between would reach runc's handlers instead.
   */
  start(): Promise<void> {
    return this.#serial(async () => {
      checkMove(this.id, this.#state, "running");
      await this.#deps.runc.start(this.id);
      await waitWhileRuncInit(this.init.pid);
      if (this.#state === "created") this.#state = "running";
    });
  }

  /**
   * Starts an extra process (`runc exec`). The exec id must not name a live process; a command that
   * cannot start fails the call with runc's reason.
   */
  async exec(execId: string, spec: Process): Promise<ContainerProcess> {
    if (this.#state !== "running") {
      throw new AgentError(
        Code.FAILED_PRECONDITION,
        `container ${this.id} is ${this.#state}: cannot exec in it`,
      );
    }
    if (!execId) throw new AgentError(Code.INVALID_ARGUMENT, "ExecProcess needs an exec id");
    if (this.#namesInit(execId) || this.#execs.has(execId) || this.#starting.has(execId)) {
      throw new AgentError(
        Code.ALREADY_EXISTS,
        `process ${JSON.stringify(execId)} of container ${this.id} exists`,
      );
    }
    this.#starting.add(execId);
    const n = ++execSeq;
    const processFile = `${this.bundle}/exec-${n}.json`;
    const pidFile = `${this.bundle}/exec-${n}.pid`;
    try {
      await writeFile(processFile, specToJson(spec), { mode: 0o600 });
      const io = await launchWithStdio(
        spec.terminal === true,
        this.#deps.paths.runDir,
        this.#deps.containerPipeSize,
        (stdio) =>
          this.#deps.runc.exec(
            this.id,
            { process: processFile, pidFile, consoleSocket: stdio.consoleSocket },
            stdio.fds,
          ),
      );
      const pid = await readPidFile(pidFile).catch((error: unknown) => {
        io.close();
        throw error;
      });
      await waitWhileRuncInit(pid);
      const proc = new ContainerProcess({
        execId,
        pid,
        io,
        exited: this.#deps.reaper.wait(pid),
        init: false,
      });
      this.#execs.set(execId, proc);
      return proc;
    } finally {
      this.#starting.delete(execId);
      await Promise.all([rm(processFile, { force: true }), rm(pidFile, { force: true })]);
    }
  }

  /**
   * The exit status (or 128 + signal) of a process, once it has exited. Every concurrent waiter gets it;
   * then the process's stdio is closed and it is forgotten, so a later wait answers NOT_FOUND.
   */
  async wait(execId: string): Promise<number> {
    const proc = this.process(execId);
    const exit = await proc.exited;
    proc.release();
    if (this.#execs.get(proc.execId) === proc) this.#execs.delete(proc.execId);
    return statusCode(exit);
  }

  /**
   * SIGKILL with no exec id goes to every process of the container (runc kill --all); anything else to the
   * one process named.
   */
  async signal(execId: string, signal: number): Promise<void> {
    if (execId === "" && signal === SIGKILL) {
      // Even once the init has gone: in a shared PID namespace its execs outlive it.
      await this.#deps.runc.kill(this.id, SIGKILL, { all: true }).catch((error: unknown) => {
        if (this.#state !== "stopped") throw error;
      });
      return;
    }
    await this.process(execId).signal(signal);
  }

  /**
   * The container's statistics; a stopped container's are its last ones, until it is removed. Not a state
   * change, so it waits for none: a read never queues behind a start or a removal (Kata's agent, holding
   * its sandbox lock through a slow cgroup read, left pods stuck Terminating).
   */
  async stats(): Promise<ContainerStats> {
    if (this.#removal !== undefined)
      throw new AgentError(Code.NOT_FOUND, `container ${this.id} is being removed`);
    return readContainerStats(this.cgroup, this.#state === "stopped" ? undefined : this.init.pid);
  }

  /**
   * Kills every process of the container and waits for its init to be reaped, closes the stdio of every
   * process (waited for or not), then undoes what creation built, newest first: the runc container (runc
   * delete runs the poststop hooks), the rootfs and bundle, storage references. Called again while it
   * runs, it returns the same work.
   */
  remove(): Promise<void> {
    this.#removal ??= this.#serial(async () => {
      if (this.#state !== "stopped") {
        await this.#deps.runc.kill(this.id, SIGKILL, { all: true }).catch((error: unknown) => {
          this.#deps.log.debug({ container: this.id, err: error }, "kill before delete");
        });
        await this.init.exited;
      }
      for (const proc of this.#execs.values()) proc.release();
      this.#execs.clear();
      await this.#undo.unwind();
    });
    return this.#removal;
  }
}
