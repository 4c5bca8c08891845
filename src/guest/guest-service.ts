import { type AgentPaths, sharedContainersDir } from "../config/agent-paths.js";
import { deviceHandlerNames } from "../device/device-handlers.js";
import type { DeviceWaiter } from "../device/device-registry.js";
import type { Uevent } from "../device/uevent.js";
import { AgentError, Code } from "../errors.js";
import type { Logger } from "../log.js";
import { KeyedLock } from "../storage/keyed-lock.js";
import { storageDriverNames } from "../storage/lookup-storage-driver.js";
import { throwIfAborted } from "../sys/abort.js";
import { withFd } from "../sys/beneath.js";
import { setRealtimeClock } from "../sys/clock.js";
import { onlineCpus } from "../sys/cpus.js";
import { hasErrno } from "../sys/errno.js";
import { reseedKernelRandom } from "../sys/random.js";
import { AGENT_VERSION } from "../version.js";
import { copyDirectory, copySymlink } from "./copy-entry.js";
import { type CopyFileFields, type CopyPlan, planCopy } from "./copy-file-request.js";
import { FileUploads } from "./file-uploads.js";
import { checkedGuestTime } from "./guest-time.js";
import { memoryBlockSize, memoryHotplugProbe } from "./memory-info.js";
import { probeMemory } from "./memory-probe.js";
import {
  addedMemoryBlock,
  bringCpusOnline,
  bringMemoryOnline,
  ONLINE_POLL_MS,
  ONLINE_TIMEOUT_MS,
  onlineMemoryBlock,
} from "./online-resources.js";
import { probeSeccompSupport } from "./seccomp-support.js";
import { openSharedDir } from "./shared-dir.js";
import type { SwapArea } from "./swap.js";
import { addSwapDisk } from "./swap-disk.js";
import { addSwapPath, type SwapPathContext } from "./swap-path.js";

export interface GuestDeps {
  readonly paths: AgentPaths;
  /** sysfs, for the memory block size and the hotplug probe (default /sys). */
  readonly sysfs: string;
  /** procfs, for the kernel's seccomp actions and the swap areas in use (default /proc). */
  readonly procfs: string;
  /** The runc that applies containers' seccomp filters. */
  readonly runc: { features(): Promise<unknown> };
  /** The agent is the guest's init (PID 1). */
  readonly initDaemon: boolean;
  /** Where AddSwap's disk is awaited, and for how long (agent.hotplug_timeout). */
  readonly devices: DeviceWaiter;
  readonly hotplugTimeoutMs: number;
  /** The sandbox's containers, whose cpusets OnlineCPUMem widens once more CPUs are online. */
  readonly containers: { widenCpusets(online: string): Promise<void> };
  readonly log: Logger;
}

export interface GuestDetails {
  memBlockSizeBytes: bigint;
  supportMemHotplugProbe: boolean;
  agentDetails: {
    version: string;
    initDaemon: boolean;
    deviceHandlers: string[];
    storageHandlers: string[];
    supportsSeccomp: boolean;
    extraFeatures: string[];
  };
}

/** A failure of a CopyFile step, saying which path; a path that would lead out of the share is refused. */
function copyError(plan: CopyPlan, sharedDir: string, error: unknown): AgentError {
  const where = `CopyFile ${JSON.stringify(plan.path)}`;
  if (hasErrno(error, "EXDEV", "ELOOP")) {
    return new AgentError(
      Code.PERMISSION_DENIED,
      `${where}: refused, the path leads out of ${sharedDir} or through a link CopyFile does not follow`,
      { cause: error },
    );
  }
  if (hasErrno(error, "EISDIR")) {
    return new AgentError(Code.FAILED_PRECONDITION, `${where}: a directory is in the way`, { cause: error });
  }
  return AgentError.wrap(error, where);
}

/**
 * The guest-wide calls: GetGuestDetails, SetGuestDateTime, CopyFile, AddSwap, AddSwapPath,
 * MemHotplugByProbe, OnlineCPUMem, ReseedRandomDev.
 */
export class GuestService {
  readonly #deps: GuestDeps;
  readonly #uploads: FileUploads;
  readonly #copies = new KeyedLock();
  #seccomp: boolean | undefined;

  constructor(deps: GuestDeps) {
    this.#deps = deps;
    this.#uploads = new FileUploads(deps.log);
  }

  async details(req: { memBlockSize: boolean; memHotplugProbe: boolean }): Promise<GuestDetails> {
    const { sysfs, initDaemon } = this.#deps;
    return {
      memBlockSizeBytes: req.memBlockSize ? await memoryBlockSize(sysfs) : 0n,
      supportMemHotplugProbe: req.memHotplugProbe ? await memoryHotplugProbe(sysfs) : false,
      agentDetails: {
        version: AGENT_VERSION,
        initDaemon,
        deviceHandlers: [...deviceHandlerNames],
        storageHandlers: [...storageDriverNames],
        supportsSeccomp: await this.#supportsSeccomp(),
        extraFeatures: [],
      },
    };
  }

  /** Asked once and remembered; when runc cannot say, false this time and asked again next time. */
  async #supportsSeccomp(): Promise<boolean> {
    if (this.#seccomp !== undefined) return this.#seccomp;
    try {
      this.#seccomp = await probeSeccompSupport(this.#deps.runc, this.#deps.procfs);
      return this.#seccomp;
    } catch (error) {
      this.#deps.log.warn({ err: error }, "cannot tell whether runc supports seccomp; reporting it does not");
      return false;
    }
  }

  /** AddSwap: swap on the disk hot-plugged at the PCI path `slots`. */
  async addSwap(slots: readonly number[], signal?: AbortSignal): Promise<void> {
    const area = await addSwapDisk(this.#swapContext(signal), slots);
    this.#logSwap(area, { pciPath: slots });
  }

  /** AddSwapPath: swap on a device node or a file, formatted first if it holds nothing. */
  async addSwapPath(path: string, signal?: AbortSignal): Promise<void> {
    this.#logSwap(await addSwapPath(this.#swapContext(signal), path), { requested: path });
  }

  #swapContext(signal: AbortSignal | undefined): SwapPathContext {
    const { devices, sysfs, procfs, hotplugTimeoutMs } = this.#deps;
    return { devices, sysfs, procfs, timeoutMs: hotplugTimeoutMs, signal };
  }

  #logSwap(area: SwapArea, fields: object): void {
    this.#deps.log.info(
      { ...fields, swap: area.path },
      area.enabled ? "swap enabled" : "swap already enabled",
    );
  }

  /** ReseedRandomDev: the host's bytes credited to the kernel's pool and the CRNG reseeded; never logged. */
  reseedRandom(seed: Uint8Array): void {
    reseedKernelRandom(seed);
    this.#deps.log.info({ bytes: seed.length }, "kernel random pool reseeded");
  }

  /** MemHotplugByProbe: hot-added memory announced to the kernel through its probe file. */
  async probeMemory(addresses: readonly bigint[]): Promise<void> {
    await probeMemory(this.#deps.sysfs, addresses);
    this.#deps.log.info({ addresses: addresses.map((a) => `0x${a.toString(16)}`) }, "memory probed");
  }

  /**
   * OnlineCPUMem: at least `nbCpus` CPUs online (the total, as Kata's agent has read it since 3.2), then,
   * unless `cpuOnly`, every offline memory block; each waited for, bounded (see online-resources). Then, when
   * CPUs were asked for, the containers' cpusets widen to the CPUs online. Synchronous whatever the request's
   * `wait` says, as in Kata's Rust agent: the host takes OK as done. Nothing is undone on a failure or an
   * abort: what was onlined is what the host plugged, and a retry finds it online.
   */
  async onlineCpuMem(req: { nbCpus: number; cpuOnly: boolean }, signal?: AbortSignal): Promise<void> {
    const { sysfs, containers, log } = this.#deps;
    const started = performance.now();
    const bounds = { sysfs, timeoutMs: ONLINE_TIMEOUT_MS, pollMs: ONLINE_POLL_MS, signal };
    const cpus = req.nbCpus > 0 ? await bringCpusOnline(bounds, req.nbCpus) : [];
    const cpusMs = performance.now() - started;
    const blocks = req.cpuOnly ? [] : await bringMemoryOnline(bounds);
    let online: string | undefined;
    if (req.nbCpus > 0) {
      throwIfAborted(signal);
      online = await onlineCpus(sysfs);
      await containers.widenCpusets(online);
    }
    log.info(
      {
        nb_cpus: req.nbCpus,
        cpu_only: req.cpuOnly,
        onlined_cpus: cpus,
        onlined_memory_blocks: blocks,
        online_cpus: online,
        cpus_ms: Math.round(cpusMs),
        duration_ms: Math.round(performance.now() - started),
      },
      "CPUs and memory online",
    );
  }

  /**
   * A device the kernel announced: a hot-added memory block is onlined at once, as Kata's agent does, so that
   * memory whose blocks appear after an OnlineCPUMem looked (ACPI announces them a moment after the host's
   * hotplug call returns) is not left offline. A failure is logged: no call waits for it.
   */
  deviceAdded(event: Uevent): void {
    const block = addedMemoryBlock(event);
    if (block === undefined) return;
    const { sysfs, log } = this.#deps;
    onlineMemoryBlock(sysfs, block).then(
      (wrote) => {
        if (wrote) log.info({ block }, "hot-added memory block onlined");
      },
      (error: unknown) => log.warn({ err: error, block }, "cannot online a hot-added memory block"),
    );
  }

  /** Sets the guest clock, refusing a time Linux cannot hold before trying. */
  setDateTime(sec: bigint, usec: bigint): void {
    const time = checkedGuestTime(sec, usec);
    setRealtimeClock(time.sec, time.usec);
    this.#deps.log.info({ sec: time.sec, usec: time.usec }, "guest clock set");
  }

  /**
   * Writes a file, directory or symlink into the shared directory, never outside it (see planCopy,
   * openParent, FileUploads). Requests for one path run in order; different paths concurrently.
   */
  async copyFile(req: CopyFileFields): Promise<void> {
    const sharedDir = sharedContainersDir(this.#deps.paths);
    const plan = planCopy(req, sharedDir);
    await this.#copies.run(plan.relative, async () => {
      try {
        await withFd(openSharedDir(this.#deps.paths), async (root) => {
          if (plan.kind === "directory") await copyDirectory(root, plan);
          else if (plan.kind === "symlink") await copySymlink(root, plan, this.#deps.log);
          else await this.#uploads.write(root, plan);
        });
      } catch (error) {
        throw copyError(plan, sharedDir, error);
      }
    });
  }
}
