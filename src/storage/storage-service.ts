import { realpath, statfs } from "node:fs/promises";
import { type AgentPaths, sharedContainersDir } from "../config/agent-paths.js";
import { AgentError, Code } from "../errors.js";
import type { Logger } from "../log.js";
import { throwIfAborted } from "../sys/abort.js";
import { hasErrno } from "../sys/errno.js";
import { runCommand } from "../sys/exec.js";
import { mount } from "../sys/mount.js";
import { type MountInfo, parseMountinfo } from "../sys/mountinfo.js";
import { readKernelFile } from "../sys/read-kernel-file.js";
import { type RemountPlan, remountPlan, remountRequest } from "./ephemeral-remount.js";
import { SharedMountRefresh } from "./shared-mount-refresh.js";
import { checkedMountPoint, checkedPath } from "./storage-paths.js";
import type { StorageRegistry } from "./storage-registry.js";
import type { StorageSpec } from "./storage-spec.js";
import { growVolume } from "./volume-resize.js";
import { type VolumeStats, volumeStatsFromStatfs } from "./volume-stats.js";

/** How long ResizeVolume waits for the disk to show the size asked for (virtio-blk: an interrupt away). */
const CAPACITY_WAIT_MS = 1000;
/** How long resize2fs or xfs_growfs may take: the host's own deadline for the call. */
const GROW_TIMEOUT_MS = 60_000;
/** How long RemoveStaleVirtiofsShareMounts' stat may take: it delays every container stop. */
const SHARE_STAT_TIMEOUT_MS = 2000;

export interface StorageServiceDeps {
  /** The storages the sandbox and its containers set up: the only ones these calls act on. */
  readonly storages: StorageRegistry;
  readonly paths: AgentPaths;
  readonly sysfs: string;
  readonly procfs: string;
  readonly log: Logger;
}

/**
 * The calls on storages already set up, and on the shared directory: GetVolumeStats, ResizeVolume,
 * UpdateEphemeralMounts, RemoveStaleVirtiofsShareMounts. A volume is named by a storage's mount point
 * (what Kata's host sends, `GuestDeviceMount`): the path, with no `..` (else INVALID_ARGUMENT), must
 * resolve to the mount point of a storage berth set up, else NOT_FOUND. So no path, nor symlink, leads
 * them to a filesystem berth did not mount for the sandbox.
 */
export class StorageService {
  readonly #deps: StorageServiceDeps;
  readonly #shared: SharedMountRefresh;

  constructor(deps: StorageServiceDeps) {
    this.#deps = deps;
    this.#shared = new SharedMountRefresh({
      sharedDir: sharedContainersDir(deps.paths),
      procfs: deps.procfs,
      log: deps.log,
      timeoutMs: SHARE_STAT_TIMEOUT_MS,
      run: runCommand,
    });
  }

  /** GetVolumeStats: the statfs of the volume at `path`, bytes and inodes (see volumeStatsFromStatfs). */
  async volumeStats(path: string): Promise<VolumeStats> {
    const what = `volume ${JSON.stringify(path)}`;
    const target = await resolved(what, checkedPath("volume path", path));
    return this.#deps.storages.withStorages([{ target }], async () => {
      const fs = await statfs(target, { bigint: true }).catch((error: unknown) => {
        throw AgentError.wrap(error, `${what}: statfs failed`);
      });
      return volumeStatsFromStatfs(fs);
    });
  }

  /** ResizeVolume: grows the filesystem of the volume at `path` to its grown disk (see growVolume). */
  async resizeVolume(path: string, size: bigint, signal?: AbortSignal): Promise<void> {
    const what = `volume ${JSON.stringify(path)}`;
    const target = await resolved(what, checkedPath("volume path", path));
    await this.#deps.storages.withStorages([{ target }], async () => {
      const { sysfs, log } = this.#deps;
      const mounted = (await this.#mounts()).filter((m) => m.mountPoint === target).at(-1);
      try {
        if (!mounted) throw new AgentError(Code.FAILED_PRECONDITION, "nothing is mounted there");
        await growVolume({
          mount: mounted,
          size,
          sysfs,
          capacityWaitMs: CAPACITY_WAIT_MS,
          growTimeoutMs: GROW_TIMEOUT_MS,
          signal,
          log,
        });
      } catch (error) {
        throw AgentError.wrap(error, what);
      }
    });
  }

  /**
   * UpdateEphemeralMounts: remounts ephemeral storages berth set up with new flags or size (Kata's host
   * resizes memory-backed emptyDirs after a memory hotplug). All or nothing: every entry is checked
   * before any remount (its mount point must be an ephemeral storage's, mounted now), and when a remount
   * fails, those done before it are remounted back as they were.
   */
  async updateEphemeralMounts(entries: readonly StorageSpec[], signal?: AbortSignal): Promise<void> {
    const requests = entries.flatMap((entry) => remountRequest(entry) ?? []);
    if (requests.length === 0) return;
    const wanted = await Promise.all(
      requests.map(async (request) => ({
        request,
        target: await resolved(
          `UpdateEphemeralMounts ${JSON.stringify(request.mountPoint)}`,
          checkedMountPoint(request.mountPoint),
        ),
      })),
    );
    await this.#deps.storages.withStorages(wanted, async (found) => {
      const mounts = await this.#mounts();
      const plans = found.map(({ request, storage, target }) => {
        if (storage.driver !== "ephemeral") {
          throw new AgentError(
            Code.INVALID_ARGUMENT,
            `UpdateEphemeralMounts ${JSON.stringify(request.mountPoint)}: it is a ${storage.driver} storage, not an ephemeral one`,
          );
        }
        const top = mounts.filter((m) => m.mountPoint === target).at(-1);
        return remountPlan(request, top, storage.fstype || "tmpfs");
      });
      throwIfAborted(signal);
      await this.#remountAll(plans);
    });
  }

  /** RemoveStaleVirtiofsShareMounts: never fails (see SharedMountRefresh). */
  refreshSharedMounts(signal?: AbortSignal): Promise<void> {
    return this.#shared.refresh(signal);
  }

  async #remountAll(plans: readonly RemountPlan[]): Promise<void> {
    const done: RemountPlan[] = [];
    for (const plan of plans) {
      try {
        await mount(plan.source, plan.target, plan.fsType, plan.apply);
      } catch (error) {
        const stuck = await this.#remountBack(done);
        const undone =
          done.length === 0 ? "" : `, ${done.length - stuck} of ${done.length} done before it undone`;
        throw AgentError.wrap(error, `UpdateEphemeralMounts${undone}`);
      }
      done.push(plan);
      this.#deps.log.info(
        { mountPoint: plan.target, options: plan.apply.join(",") },
        "ephemeral storage remounted",
      );
    }
  }

  /** Remounts each of `done` as it was, newest first; returns how many could not be. */
  async #remountBack(done: readonly RemountPlan[]): Promise<number> {
    let stuck = 0;
    for (const plan of [...done].reverse()) {
      await mount(plan.source, plan.target, plan.fsType, plan.undo).catch((error: unknown) => {
        stuck += 1;
        this.#deps.log.error(
          { err: error, mountPoint: plan.target },
          "cannot remount an ephemeral storage back",
        );
      });
    }
    return stuck;
  }

  async #mounts(): Promise<MountInfo[]> {
    return parseMountinfo(await readKernelFile(`${this.#deps.procfs}/self/mountinfo`));
  }
}

/** `path` (checked) with symlinks resolved; NOT_FOUND when nothing is there. */
async function resolved(what: string, path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (error) {
    if (hasErrno(error, "ENOENT", "ENOTDIR")) {
      throw new AgentError(Code.NOT_FOUND, `${what}: nothing is there`, { cause: error });
    }
    throw AgentError.wrap(error, `${what}: cannot resolve the path`);
  }
}
