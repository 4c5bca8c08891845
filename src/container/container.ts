import { constants } from "node:os";
import type { BundlePaths } from "../bundle/bundle-paths.js";
import type { CgroupDir, CgroupDirs } from "../cgroup/cgroup-dirs.js";
import { enabledControllerDir, writeCgroupFiles } from "../cgroup/cgroup-fs.js";
import { type OomWatch, watchOom } from "../cgroup/oom-watch.js";
import type { PciPair } from "../device/devices.js";
import { AgentError, Code } from "../errors.js";
import type { LinuxResources, Process } from "../oci/oci-spec.js";
import { specToJson } from "../oci/spec-json.js";
import type { ContainerProcess } from "../process/container-process.js";
import { abortReason, throwIfAborted, untilAborted } from "../sys/abort.js";
import type { CleanupStack } from "../sys/cleanup-stack.js";
import { onlineCpus } from "../sys/cpus.js";
import { statusCode } from "../sys/reaper.js";
import { type Throttle, throttleKey, throttlesOf, throttleWrite } from "./blkio-throttle.js";
import { type ContainerBounds, type ContainerDeps, DEFAULT_BOUNDS } from "./container-deps.js";
import { discardProcess, killContainer } from "./container-kill.js";
import { type ContainerState, checkMove } from "./container-state.js";
import { type ContainerStats, readContainerStats } from "./container-stats.js";
import { widenContainerCpuset } from "./cpuset-widening.js";
import { startExec } from "./exec-process.js";
import { guestPciEnv } from "./guest-pci-env.js";
import { restrictUpdateCpus } from "./spec-edits.js";

const { SIGKILL } = constants.signals;

/**
 * A container with explicit states (created → running ⇄ paused → stopped) and its processes. State
 * changes run one at a time per container; waits and stdio hold no lock.
 */
export class Container {
  readonly id: string;
  readonly bundle: BundlePaths;
  readonly init: ContainerProcess;
  /** Where runc put the container, found once it was created; runc delete (RemoveContainer) removes it. */
  readonly cgroup: CgroupDirs;
  /** The PCI functions its devices passed through (host → guest address), for the `PCIDEVICE_*` of execs. */
  readonly pci: readonly PciPair[];
  /** The guest file its termination message is written to (see terminationLogSource), if it has one. */
  readonly terminationLog: string | undefined;
  /** Whether its PID namespace is its own (not the sandbox's it joined): its init's exit ends all in it. */
  readonly ownPidNamespace: boolean;
  #state: ContainerState = "created";
  readonly #execs = new Map<string, ContainerProcess>();
  /** Exec ids being started (taken, though not yet processes), each with the end of its start. */
  readonly #starting = new Map<string, Promise<void>>();
  readonly #undo: CleanupStack;
  readonly #deps: ContainerDeps;
  readonly #bounds: ContainerBounds;
  readonly #onOom: (() => void) | undefined;
  #oomWatch: OomWatch | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #removal: Promise<void> | undefined;
  /** Block-IO throttles set by updates, by what each sets: `runc update` rewrites the spec's own over them. */
  readonly #throttles = new Map<string, Throttle>();
  /** The cpuset the host asked for (spec, then UpdateContainer), before it was limited to online CPUs. */
  #cpus: string | undefined;

  constructor(d: {
    id: string;
    bundle: BundlePaths;
    init: ContainerProcess;
    cgroup: CgroupDirs;
    undo: CleanupStack;
    deps: ContainerDeps;
    /** Told of each OOM kill in it; none for the sandbox's own container, which Kata does not watch either. */
    onOom: (() => void) | undefined;
    pci?: readonly PciPair[];
    terminationLog?: string | undefined;
    ownPidNamespace?: boolean;
    /** The spec's `linux.resources.cpu.cpus`, as the host sent it. */
    cpus?: string | undefined;
  }) {
    this.id = d.id;
    this.bundle = d.bundle;
    this.init = d.init;
    this.cgroup = d.cgroup;
    this.pci = d.pci ?? [];
    this.terminationLog = d.terminationLog;
    this.ownPidNamespace = d.ownPidNamespace ?? false;
    this.#undo = d.undo;
    this.#deps = d.deps;
    this.#bounds = { ...DEFAULT_BOUNDS, ...d.deps.bounds };
    this.#onOom = d.onOom;
    this.#cpus = d.cpus || undefined;
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
   * The OOM watch, then `runc start`, then a wait (usually none) until the program has replaced runc's
   * init: runc returns a moment before the exec, and a signal that came in between would reach runc's
   * handlers instead. When `signal` ends the call once `runc start` has run (or was killed half way), the
   * host has been told the start failed: the container is killed, so it is left stopped, not running
   * unbeknown to the host, which removes it next.
   */
  start(signal?: AbortSignal): Promise<void> {
    return this.#serial(async () => {
      throwIfAborted(signal);
      checkMove(this.id, this.#state, "running");
      await this.#watchOom();
      throwIfAborted(signal);
      let failure: { error: unknown } | undefined;
      try {
        await this.#deps.runc.start(this.id, { signal });
        this.init.programStarted();
      } catch (error) {
        failure = { error };
      }
      if (signal?.aborted) {
        this.#deps.log.warn(
          { container: this.id },
          "StartContainer ended by its caller: killing the container",
        );
        await killContainer(this, this.#deps, this.#bounds);
        throw abortReason(signal);
      }
      if (failure) throw failure.error;
      if (this.#state === "created") this.#state = "running";
    });
  }

  /**
   * Watches the container's memory cgroup while its init still waits for `runc start`, so an OOM in the
   * program's first moments is seen too.
   */
  async #watchOom(): Promise<void> {
    const onOom = this.#onOom;
    if (!onOom || this.#oomWatch) return;
    const { log } = this.#deps;
    const report = () => {
      log.warn({ container: this.id }, "OOM in the container's memory cgroup");
      onOom();
    };
    try {
      const memory = await enabledControllerDir(this.cgroup, "memory");
      if (!memory) {
        log.warn({ container: this.id }, "no memory cgroup: no OOM events for this container");
        return;
      }
      this.#oomWatch = await watchOom(memory, report, log);
    } catch (error) {
      throw AgentError.wrap(error, `container ${this.id}: cannot watch its memory cgroup for OOM`);
    }
  }

  /**
   * Starts an extra process (`runc exec`), its `PCIDEVICE_*` variables naming the guest's PCI addresses as
   * the container's own do. The exec id must not name a live process; a command that cannot start fails
   * the call with runc's reason. A process whose start returns after removal began, or after `signal`
   * ended the call, is killed and released, and the call fails: nothing of it is left.
   */
  async exec(execId: string, spec: Process, signal?: AbortSignal): Promise<ContainerProcess> {
    this.#checkExec(execId);
    let started!: () => void;
    this.#starting.set(execId, new Promise<void>((resolve) => (started = resolve)));
    try {
      const env = spec.env && guestPciEnv(spec.env, this.pci, this.#deps.log, this.id);
      const proc = await startExec(this.#deps, this.bundle, execId, env ? { ...spec, env } : spec);
      const refused =
        this.#removal !== undefined
          ? new AgentError(
              Code.FAILED_PRECONDITION,
              `container ${this.id} is being removed: exec ${JSON.stringify(execId)} was killed`,
            )
          : signal?.aborted
            ? abortReason(signal)
            : undefined;
      if (refused) {
        await discardProcess(proc, this.#bounds);
        throw refused;
      }
      this.#execs.set(execId, proc);
      this.#closeStdioAfterExit(proc);
      return proc;
    } finally {
      this.#starting.delete(execId);
      started();
    }
  }

  #checkExec(execId: string): void {
    if (this.#removal !== undefined) {
      throw new AgentError(
        Code.FAILED_PRECONDITION,
        `container ${this.id} is being removed: cannot exec in it`,
      );
    }
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
    const held = this.#execs.size + this.#starting.size;
    if (held >= this.#bounds.unwaitedExecs) {
      throw new AgentError(
        Code.RESOURCE_EXHAUSTED,
        `container ${this.id} holds ${held} exec processes not released by WaitProcess, its limit: ` +
          "WaitProcess on each that has exited releases it",
      );
    }
  }

  /**
   * An exited exec keeps its stdio for `stdioLingerMs` (output still in the pipe stays readable), then
   * closes it (reads see EOF); its exit status stays until WaitProcess or the container's removal.
   */
  #closeStdioAfterExit(proc: ContainerProcess): void {
    void proc.exited.then(() => {
      setTimeout(() => {
        if (!proc.released) proc.io.close();
      }, this.#bounds.stdioLingerMs).unref();
    });
  }

  /**
   * The exit status (or 128 + signal) of a process, once it has exited. Every concurrent waiter gets it;
   * then the process's stdio is closed and it is forgotten, so a later wait answers NOT_FOUND. A wait that
   * `signal` ends holds nothing and releases nothing.
   */
  async wait(execId: string, signal?: AbortSignal): Promise<number> {
    const proc = this.process(execId);
    const exit = await untilAborted(proc.exited, signal);
    proc.release();
    if (this.#execs.get(proc.execId) === proc) this.#execs.delete(proc.execId);
    return statusCode(exit);
  }

  /**
   * SIGKILL with no exec id goes to every process of the container (runc kill --all, which thaws a paused
   * container once the signals are sent); anything else to the one process named. A frozen process takes
   * no signal, SIGKILL included, until it is thawed: a signal to one process of a paused container waits
   * for ResumeContainer, except a SIGKILL to the init, which thaws the container as `runc kill` does.
   */
  async signal(execId: string, signal: number): Promise<void> {
    if (execId === "" && signal === SIGKILL) {
      // Even once the init has gone: in a shared PID namespace its execs outlive it.
      await this.#deps.runc.kill(this.id, SIGKILL, { all: true }).catch((error: unknown) => {
        if (this.#state !== "stopped") throw error;
      });
      return;
    }
    const proc = this.process(execId);
    const sent = await proc.signal(signal);
    if (sent === SIGKILL && proc.init && this.#state === "paused") {
      await this.resume().catch((error: unknown) => {
        if (this.#state === "paused") throw error;
      });
    }
  }

  /** Freezes every process of the container (`runc pause`): running → paused. */
  pause(): Promise<void> {
    return this.#serial(async () => {
      checkMove(this.id, this.#state, "paused");
      await this.#deps.runc.pause(this.id);
      if (this.#state === "running") this.#state = "paused";
    });
  }

  /** Thaws a paused container (`runc resume`): paused → running. */
  resume(): Promise<void> {
    return this.#serial(async () => {
      if (this.#state !== "paused") {
        throw new AgentError(
          Code.FAILED_PRECONDITION,
          `container ${this.id} is ${this.#state}, not paused: it cannot be resumed`,
        );
      }
      await this.#deps.runc.resume(this.id);
      if (this.#state === "paused") this.#state = "running";
    });
  }

  /**
   * Applies new cgroup limits to a created, running or paused container: `runc update` for memory, CPU
   * (the cpuset limited to online CPUs), pids and block-IO weight, then the block-IO throttles, which
   * runc update leaves out, written to the container's cgroup — every throttle any update set, since
   * runc update rewrites the spec's own. The cpuset asked for is kept, for OnlineCPUMem to widen to.
   */
  update(resources: LinuxResources): Promise<void> {
    return this.#serial(async () => {
      if (this.#state === "stopped") {
        throw new AgentError(
          Code.FAILED_PRECONDITION,
          `container ${this.id} is stopped: its resources cannot be updated`,
        );
      }
      const throttles = throttlesOf(resources.blockIO);
      const blkio = throttles.length > 0 || this.#throttles.size > 0 ? await this.#blkioDir() : undefined;
      const guest = restrictUpdateCpus(resources, await onlineCpus(this.#deps.sysfs));
      await this.#deps.runc.update(this.id, specToJson(guest));
      if (resources.cpu?.cpus) this.#cpus = resources.cpu.cpus;
      if (!blkio) return;
      const all = new Map(this.#throttles);
      for (const t of throttles) all.set(throttleKey(t), t);
      await writeCgroupFiles(
        blkio.dir,
        [...all.values()].map((t) => throttleWrite(t, blkio.version)),
      );
      for (const [key, t] of all) this.#throttles.set(key, t);
    });
  }

  /**
   * OnlineCPUMem, once the cgroups above it were widened: its cpuset widens to the CPUs `online` now (see
   * widenContainerCpuset). A container stopped or being removed is left alone.
   */
  widenCpuset(online: string): Promise<void> {
    return this.#serial(async () => {
      if (this.#removal !== undefined || this.#state === "stopped") return;
      await widenContainerCpuset(this.cgroup, this.#cpus, online);
    });
  }

  /** The container's block-IO cgroup, where the throttles are written: FAILED_PRECONDITION if it has none. */
  async #blkioDir(): Promise<CgroupDir> {
    const blkio = await enabledControllerDir(this.cgroup, "blkio", "io");
    if (blkio) return blkio;
    throw new AgentError(
      Code.FAILED_PRECONDITION,
      `container ${this.id} has no blkio (v1) or io (v2) cgroup: the guest does not run that controller for it`,
    );
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
   * Kills every process of the container and waits, bounded, for its init to exit (see killContainer),
   * waits for the execs still starting (each sees the removal and kills its process), closes the stdio of
   * every process (waited for or not) and the OOM watch (reporting an OOM signalled but not yet read),
   * then undoes what creation built, newest first: the runc container (runc delete runs the poststop
   * hooks), the rootfs and bundle, storage references. Called again while it runs, it returns the same work.
   */
  remove(): Promise<void> {
    this.#removal ??= this.#serial(async () => {
      await killContainer(this, this.#deps, this.#bounds);
      await Promise.all(this.#starting.values());
      for (const proc of this.#execs.values()) proc.release();
      this.#execs.clear();
      this.#oomWatch?.close();
      this.#oomWatch = undefined;
      await this.#undo.unwind();
    });
    return this.#removal;
  }
}
