import { type AgentPaths, sharedContainersDir } from "../config/agent-paths.js";
import { deviceHandlerNames } from "../device/device-handlers.js";
import type { DeviceWaiter } from "../device/device-registry.js";
import { AgentError, Code } from "../errors.js";
import type { Logger } from "../log.js";
import { KeyedLock } from "../storage/keyed-lock.js";
import { storageDriverNames } from "../storage/lookup-storage-driver.js";
import { withFd } from "../sys/beneath.js";
import { setRealtimeClock } from "../sys/clock.js";
import { hasErrno } from "../sys/errno.js";
import { reseedKernelRandom } from "../sys/random.js";
import { AGENT_VERSION } from "../version.js";
import { copyDirectory, copySymlink } from "./copy-entry.js";
import { type CopyFileFields, type CopyPlan, planCopy } from "./copy-file-request.js";
import { FileUploads } from "./file-uploads.js";
import { checkedGuestTime } from "./guest-time.js";
import { memoryBlockSize, memoryHotplugProbe } from "./memory-info.js";
import { probeMemory } from "./memory-probe.js";
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
 * MemHotplugByProbe, ReseedRandomDev.
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
