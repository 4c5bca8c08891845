import { mkdir, rm } from "node:fs/promises";
import { pauseRecord, sandboxDir } from "../config/agent-paths.js";
import type { Container } from "../container/container.js";
import type { ContainerStats } from "../container/container-stats.js";
import type { CreateContainerRequest } from "../container/create-container.js";
import { scanGuestHooks } from "../container/guest-hooks.js";
import { listProcesses } from "../container/list-processes.js";
import { readTerminationLog } from "../container/termination-log.js";
import { AgentError, Code } from "../errors.js";
import { setupDns } from "../network/dns.js";
import type { LinuxResources, Process } from "../oci/oci-spec.js";
import type { StorageSpec } from "../storage/storage-spec.js";
import { removeDirIfEmpty } from "../storage/storage-steps.js";
import { CleanupStack } from "../sys/cleanup-stack.js";
import { pathExists } from "../sys/path-exists.js";
import type { AgentDeps } from "./agent-deps.js";
import { type KernelModuleSpec, loadKernelModules } from "./kernel-modules.js";
import { OomEvents } from "./oom-events.js";
import { Sandbox } from "./sandbox.js";
import { createSandboxPidNamespace, createSharedNamespaces } from "./shared-namespaces.js";

export interface CreateSandboxRequest {
  sandboxId: string;
  hostname: string;
  /** Full resolv.conf lines. */
  dns: readonly string[];
  storages: readonly StorageSpec[];
  sandboxPidns: boolean;
  guestHookPath: string;
  kernelModules: readonly KernelModuleSpec[];
}

/** What a read with `len` 0 gets: the shim's own buffer size. */
const READ_DEFAULT = 32 * 1024;
/** A reply stays well under ttrpc's 4 MiB frame limit. */
const READ_MAX = 1024 * 1024;

const EMPTY_HOOKS = { prestart: [], poststart: [], poststop: [] };

/** setTimeout's ceiling: a longer delay would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** CreateSandbox or DestroySandbox while it runs; neither starts while either runs. */
type SandboxChange = { doing: "creating" | "destroying"; id: string; done: Promise<void> };

/** The sandbox and its containers: what CreateSandbox, CreateContainer, … DestroySandbox act on. */
export class SandboxService {
  readonly #deps: AgentDeps;
  #sandbox: Sandbox | undefined;
  #busy: SandboxChange | undefined;
  #stopping = false;

  constructor(deps: AgentDeps) {
    this.#deps = deps;
  }

  #current(): Sandbox {
    if (this.#busy?.doing === "destroying") {
      throw new AgentError(Code.FAILED_PRECONDITION, `sandbox ${this.#busy.id} is being destroyed`);
    }
    if (!this.#sandbox)
      throw new AgentError(Code.FAILED_PRECONDITION, "no sandbox: call CreateSandbox first");
    return this.#sandbox;
  }

  /**
   * Sets up the sandbox: kernel modules, guest hooks, shared UTS/IPC (and PID) namespaces, storages, DNS.
   * A failure undoes every step before it. Modules stay loaded: unloading one another user may rely on
   * would do more harm than leaving it. While a DestroySandbox runs it is FAILED_PRECONDITION: the old
   * sandbox's containers, mounts and namespaces are still being taken down.
   */
  createSandbox(req: CreateSandboxRequest): Promise<void> {
    if (this.#stopping) {
      return Promise.reject(new AgentError(Code.UNAVAILABLE, "the agent is shutting down"));
    }
    if (this.#busy?.doing === "destroying") {
      return Promise.reject(
        new AgentError(
          Code.FAILED_PRECONDITION,
          `sandbox ${this.#busy.id} is being destroyed: CreateSandbox ${req.sandboxId} can follow once DestroySandbox has returned`,
        ),
      );
    }
    if (this.#sandbox || this.#busy) {
      return Promise.reject(
        new AgentError(Code.ALREADY_EXISTS, `a sandbox (${this.#sandbox?.id ?? "being set up"}) is running`),
      );
    }
    const done = this.#createSandbox(req).finally(() => {
      this.#busy = undefined;
    });
    this.#busy = { doing: "creating", id: req.sandboxId, done };
    return done;
  }

  async #createSandbox(req: CreateSandboxRequest): Promise<void> {
    const { paths, log, faults } = this.#deps;
    const step = (name: string) => faults.check(`create-sandbox:${name}`);
    const undo = new CleanupStack();
    try {
      if (await mkdir(sandboxDir(paths), { recursive: true, mode: 0o755 })) {
        undo.push(`remove ${sandboxDir(paths)}`, () => removeDirIfEmpty(sandboxDir(paths), log));
      }
      await loadKernelModules(req.kernelModules);
      step("kernel-modules");
      const guestHooks = req.guestHookPath ? await scanGuestHooks(req.guestHookPath, log) : EMPTY_HOOKS;
      const namespaces = await createSharedNamespaces(paths.sandboxNsDir, req.hostname, undo);
      step("namespaces");
      const pidNamespace = req.sandboxPidns
        ? await createSandboxPidNamespace(this.#deps.reaper, paths.sandboxNsDir, undo, pauseRecord(paths))
        : undefined;
      step("pid-namespace");
      const mountPoints = await this.#deps.storages.add(req.storages);
      undo.push("release the sandbox storages", () =>
        this.#deps.storages.release(mountPoints, { includeShared: true }),
      );
      step("storages");
      if (req.dns.length > 0 && (await pathExists(paths.resolvConf))) {
        const file = `${sandboxDir(paths)}/resolv.conf`;
        undo.push(`remove ${file}`, () => rm(file, { force: true }));
        await setupDns(req.dns, file, paths.resolvConf, undo);
      }
      step("dns");
      this.#sandbox = new Sandbox({
        id: req.sandboxId,
        hostname: req.hostname,
        namespaces,
        guestHooks,
        pidNamespace,
        undo: undo.transfer(),
        oomEvents: new OomEvents(log),
        deps: this.#deps,
      });
      log.info({ sandbox: req.sandboxId, hostname: req.hostname }, "sandbox created");
    } catch (error) {
      await undo.unwind().catch((cleanup: unknown) => {
        log.error({ err: cleanup }, "rollback of a failed CreateSandbox was incomplete");
      });
      throw error;
    }
  }

  /**
   * Removes every container, then undoes the sandbox: storages (shared ones too), DNS, namespaces; then
   * ends the pending GetOOMEvent polls with NOT_FOUND (older Kata shims stop polling on that code; the
   * current one retries on any error and runtime-rs stops on any). The sandbox is gone afterwards even if
   * a step failed; the error names each failure. Until then no other call can use the sandbox or create
   * one; called again meanwhile, it returns the same work.
   */
  destroySandbox(): Promise<void> {
    if (this.#busy?.doing === "destroying") return this.#busy.done;
    const sandbox = this.#current();
    const done = this.#destroy(sandbox).finally(() => {
      this.#sandbox = undefined;
      this.#busy = undefined;
    });
    this.#busy = { doing: "destroying", id: sandbox.id, done };
    return done;
  }

  /**
   * The agent is stopping (SIGTERM): no sandbox is created from now on, and the one there is (once a
   * CreateSandbox in flight has finished) is destroyed as DestroySandbox does, so nothing of it is left
   * running or mounted.
   */
  async shutdown(): Promise<void> {
    this.#stopping = true;
    if (this.#busy?.doing === "creating") await this.#busy.done.catch(() => {});
    if (this.#sandbox || this.#busy?.doing === "destroying") await this.destroySandbox();
  }

  async #destroy(sandbox: Sandbox): Promise<void> {
    const failures = await sandbox.destroy();
    await this.#deps.storages.releaseAll().catch((error: unknown) => failures.push(error));
    sandbox.oomEvents.close(
      new AgentError(Code.NOT_FOUND, `sandbox ${sandbox.id} was destroyed: it has no more OOM events`),
    );
    this.#deps.log.info({ sandbox: sandbox.id, failures: failures.length }, "sandbox destroyed");
    this.#deps.onSandboxDestroyed?.();
    if (failures.length > 0) {
      const messages = failures.map((f) => AgentError.from(f).message).join("; ");
      throw new AgentError(Code.INTERNAL, `sandbox destroyed with errors: ${messages}`, {
        cause: new AggregateError(failures),
      });
    }
  }

  /** Creates a container in the sandbox (see Sandbox.createContainer); `signal` is the call's end. */
  createContainer(req: CreateContainerRequest, signal?: AbortSignal): Promise<Container> {
    return this.#current().createContainer(req, signal);
  }

  async startContainer(id: string, signal?: AbortSignal): Promise<void> {
    await this.#current().container(id).start(signal);
  }

  statsContainer(id: string): Promise<ContainerStats> {
    return this.#current().container(id).stats();
  }

  /**
   * Removes a container, or ends its creation if it is still being created; with `timeoutSeconds` > 0
   * gives up waiting after that long (DEADLINE_EXCEEDED) while the removal carries on and finishes in the
   * background.
   */
  async removeContainer(id: string, timeoutSeconds: number): Promise<void> {
    const removal = this.#current().removeContainer(id);
    if (timeoutSeconds <= 0) return removal;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new AgentError(
              Code.DEADLINE_EXCEEDED,
              `container ${id} not removed after ${timeoutSeconds} s; removal goes on in the background`,
            ),
          ),
        Math.min(timeoutSeconds * 1000, MAX_TIMER_MS),
      );
    });
    removal.catch((error: unknown) => {
      this.#deps.log.error({ container: id, err: error }, "container removal failed");
    });
    try {
      await Promise.race([removal, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The id of the next container whose memory cgroup went OOM, waiting (holding nothing) until there is
   * one; each event goes to one caller. `signal` (the call's end) stops the wait and loses no event.
   */
  nextOomEvent(signal?: AbortSignal): Promise<string> {
    return this.#current().oomEvents.next(signal);
  }

  /**
   * GetDiagnosticData: the termination message a container wrote ("termination_log", the only kind Kata
   * defines), for a host whose guest files it cannot see (shared_fs=none); "" when the container has none.
   */
  async diagnosticData(containerId: string, logType: string): Promise<string> {
    if (logType !== "termination_log") {
      throw new AgentError(
        Code.INVALID_ARGUMENT,
        `unsupported diagnostic log_type: ${JSON.stringify(logType)}`,
      );
    }
    const { terminationLog } = this.#current().container(containerId);
    return terminationLog === undefined ? "" : readTerminationLog(terminationLog);
  }

  pauseContainer(id: string): Promise<void> {
    return this.#current().container(id).pause();
  }

  resumeContainer(id: string): Promise<void> {
    return this.#current().container(id).resume();
  }

  /** Applies new cgroup limits; `resources` undefined (the host sent none) is INVALID_ARGUMENT. */
  updateContainer(id: string, resources: LinuxResources | undefined): Promise<void> {
    if (!resources)
      throw new AgentError(Code.INVALID_ARGUMENT, `UpdateContainer ${id}: the request has no resources`);
    return this.#current().container(id).update(resources);
  }

  /**
   * Widens the containers' cpusets to the CPUs `online` now (OnlineCPUMem); with no sandbox (a VM
   * factory's guest, before CreateSandbox) or one being destroyed, there are none to widen.
   */
  async widenCpusets(online: string): Promise<void> {
    if (this.#busy?.doing === "destroying") return;
    await this.#sandbox?.widenCpusets(online);
  }

  /** Kata 1.x's ListProcesses: the container's pids as JSON, or the `ps` lines of its processes. */
  listProcesses(id: string, format: string, args: readonly string[]): Promise<Uint8Array> {
    return listProcesses(this.#deps.runc, this.#current().container(id).id, format, args);
  }

  async execProcess(containerId: string, execId: string, spec: Process, signal?: AbortSignal): Promise<void> {
    await this.#current().container(containerId).exec(execId, spec, signal);
  }

  /**
   * The exit status (or 128 + signal) of a process once it has exited; then the process is released.
   * `signal` ends the wait, which then holds nothing.
   */
  waitProcess(containerId: string, execId: string, signal?: AbortSignal): Promise<number> {
    return this.#current().container(containerId).wait(execId, signal);
  }

  signalProcess(containerId: string, execId: string, signal: number): Promise<void> {
    return this.#current().container(containerId).signal(execId, signal);
  }

  /**
   * Up to `max` bytes of a process's stdout or stderr, waiting for some; empty means EOF. The bytes are a
   * view whose ArrayBuffer holds nothing else: its `byteOffset` bytes in front are free, and `recycle`
   * lets a later read reuse the buffer once nothing uses them any more (OutputReader).
   */
  async readStream(
    containerId: string,
    execId: string,
    stream: "stdout" | "stderr",
    max: number,
    signal?: AbortSignal,
  ): Promise<{ data: Buffer; recycle: () => void }> {
    const reader = this.#current().container(containerId).process(execId).io[stream];
    if (!reader)
      throw new AgentError(Code.FAILED_PRECONDITION, `process ${JSON.stringify(execId)} has no ${stream}`);
    const data = await reader.read(max > 0 ? Math.min(max, READ_MAX) : READ_DEFAULT, signal);
    return { data, recycle: () => reader.recycle(data) };
  }

  /**
   * Writes all of `data` to the process's stdin, resolving once the kernel has taken it (what `signal`
   * aborts before that is dropped); empty data closes stdin, as runtime-rs expects.
   */
  async writeStdin(
    containerId: string,
    execId: string,
    data: Uint8Array,
    signal?: AbortSignal,
  ): Promise<number> {
    const stdin = this.#stdin(containerId, execId);
    if (data.length === 0) {
      await stdin.close(signal);
      return 0;
    }
    return stdin.write(data, signal);
  }

  /** Closes the process's stdin once the writes queued before are written. */
  async closeStdin(containerId: string, execId: string, signal?: AbortSignal): Promise<void> {
    await this.#stdin(containerId, execId).close(signal);
  }

  ttyWinResize(containerId: string, execId: string, rows: number, columns: number): void {
    this.#current().container(containerId).process(execId).io.resize(rows, columns);
  }

  #stdin(containerId: string, execId: string) {
    const stdin = this.#current().container(containerId).process(execId).io.stdin;
    if (!stdin)
      throw new AgentError(Code.FAILED_PRECONDITION, `process ${JSON.stringify(execId)} has no stdin`);
    return stdin;
  }
}
