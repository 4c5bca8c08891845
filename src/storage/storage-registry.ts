import { realpath } from "node:fs/promises";
import { checkContainerId } from "../bundle/container-id.js";
import type { AgentPaths } from "../config/agent-paths.js";
import { DeviceRegistry, type DeviceWaiter } from "../device/device-registry.js";
import { AgentError, Code } from "../errors.js";
import type { Logger } from "../log.js";
import { CleanupStack } from "../sys/cleanup-stack.js";
import type { PersistedSet } from "../sys/persisted-set.js";
import { KeyedLock } from "./keyed-lock.js";
import { lookupStorageDriver } from "./lookup-storage-driver.js";
import type { StorageDriver } from "./storage-driver.js";
import { checkedMountPoint, checkedPath, checkText } from "./storage-paths.js";
import { StorageRefs } from "./storage-refs.js";
import type { StorageSpec } from "./storage-spec.js";

export interface StorageRegistryDeps {
  paths: AgentPaths;
  log: Logger;
  /** sysfs root, for hugepage pools and device addresses (default /sys). */
  sysfs?: string;
  /** Where block storages wait for their disks (default: a registry of its own that polls sysfs). */
  devices?: DeviceWaiter;
  /** How long a block storage waits for its disk (agent.hotplug_timeout; default 3 s). */
  hotplugTimeoutMs?: number;
  /**
   * Where the mount points being set up are recorded, before anything is mounted, until they are undone:
   * what a restarted agent unmounts when this one died. None: not recorded.
   */
  record?: PersistedSet | undefined;
}

interface Planned {
  storage: StorageSpec;
  driver: StorageDriver;
  mountPoint: string;
}

interface SetUp {
  storage: StorageSpec;
  /** The mount point resolved once set up: where mountinfo shows it. */
  target: string;
  undo: CleanupStack;
}

/** A storage that is set up, as the calls acting on one (volume stats, resize, remount) see it. */
export interface SetUpStorage {
  readonly storage: StorageSpec;
  /** The mount point it is counted by (checked and normalised). */
  readonly mountPoint: string;
  /** `mountPoint` resolved (symlinks followed) when it was set up: where mountinfo shows it. */
  readonly target: string;
}

/** Checks everything about one storage that can be checked before touching the system. */
function plan(storage: StorageSpec): Planned {
  const driver = lookupStorageDriver(storage.driver);
  const mountPoint = checkedMountPoint(storage.mountPoint);
  checkText("source", storage.source);
  if (storage.source.startsWith("/")) checkedPath("source", storage.source);
  checkText("fstype", storage.fstype);
  for (const option of [...storage.options, ...storage.driverOptions]) checkText("option", option);
  driver.check(storage);
  return { storage, driver, mountPoint };
}

/** One AgentError for several failures: the only one's code, else INTERNAL; every message. */
function combined(what: string, failures: readonly unknown[]): AgentError {
  const errors = failures.map((f) => AgentError.from(f));
  const code = errors.length === 1 && errors[0] ? errors[0].code : Code.INTERNAL;
  return new AgentError(code, `${what}: ${errors.map((e) => e.message).join("; ")}`, {
    cause: failures.length === 1 ? failures[0] : new AggregateError(failures),
  });
}

/**
 * The sandbox's storages (Kata's `Storage` messages), reference-counted by mount point: the first user sets
 * one up through its driver, later users only count, and the last release undoes exactly what the driver
 * did. Work on one mount point is serialised; different mount points proceed concurrently.
 */
export class StorageRegistry {
  readonly #deps: Required<Omit<StorageRegistryDeps, "record" | "devices">>;
  readonly #devices: DeviceWaiter;
  readonly #record: PersistedSet | undefined;
  readonly #refs = new StorageRefs<SetUp>();
  readonly #lock = new KeyedLock();

  constructor(deps: StorageRegistryDeps) {
    const { record, devices, ...rest } = deps;
    this.#deps = { sysfs: "/sys", hotplugTimeoutMs: 3000, ...rest };
    this.#devices = devices ?? new DeviceRegistry({ log: deps.log, sysfs: this.#deps.sysfs });
    this.#record = record;
  }

  /**
   * Sets up each storage in order (a second user of a mount point only bumps its count). On failure
   * releases what this call added, newest first, and rethrows the original error. Returns one mount point
   * per storage, for release(). `containerId` undefined = sandbox storage. `signal` ends a wait for a disk.
   */
  async add(storages: readonly StorageSpec[], containerId?: string, signal?: AbortSignal): Promise<string[]> {
    if (containerId !== undefined) checkContainerId(containerId);
    const plans = storages.map(plan);
    const added: { mountPoint: string; fresh: boolean }[] = [];
    try {
      for (const p of plans) {
        const fresh = await this.#lock.run(p.mountPoint, () => this.#acquire(p, containerId, signal));
        added.push({ mountPoint: p.mountPoint, fresh });
      }
    } catch (error) {
      for (const { mountPoint, fresh } of added.reverse()) {
        // A storage this call set up goes even if shared; one it only counted keeps its other users.
        await this.#lock
          .run(mountPoint, () => this.#drop(mountPoint, fresh))
          .catch((cleanup: unknown) => {
            this.#deps.log.error(
              { err: cleanup, mountPoint },
              "rollback of a failed storage setup was incomplete",
            );
          });
      }
      throw error;
    }
    return added.map((a) => a.mountPoint);
  }

  async #acquire(
    { storage, driver, mountPoint }: Planned,
    containerId: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    if (this.#refs.acquire(mountPoint)) {
      this.#deps.log.debug({ mountPoint, containerId }, "storage already set up; counting one more user");
      return false;
    }
    const undo = new CleanupStack();
    const { paths, sysfs, hotplugTimeoutMs } = this.#deps;
    const devices = { devices: this.#devices, sysfs, timeoutMs: hotplugTimeoutMs, signal };
    const log = this.#deps.log.child({ driver: storage.driver, mountPoint });
    await this.#record?.add(mountPoint);
    let target: string;
    try {
      await driver.setup({ storage, mountPoint, containerId, paths, sysfs, devices, log, undo });
      target = await realpath(mountPoint);
    } catch (error) {
      await this.#undo(undo, mountPoint).catch((cleanup: unknown) => {
        log.error({ err: cleanup }, "undoing a failed storage setup was incomplete");
      });
      throw error;
    }
    this.#refs.insert(mountPoint, { storage, target, undo }, storage.shared);
    return true;
  }

  async #drop(mountPoint: string, evenShared: boolean): Promise<void> {
    const setUp = this.#refs.drop(mountPoint, evenShared);
    if (!setUp) return;
    await this.#undo(setUp.undo, mountPoint);
    this.#deps.log.info({ mountPoint, driver: setUp.storage.driver }, "storage released");
  }

  /**
   * Drops one reference per mount point, newest first; the last one undoes the storage (unmount, then
   * remove the directories and files its driver created, directories only if empty, except a writable
   * overlay's own upper/work). Shared storages stay until releaseAll() unless `includeShared`. Every
   * release runs even if one fails; then one AgentError names each failure.
   */
  async release(mountPoints: readonly string[], opts: { includeShared?: boolean } = {}): Promise<void> {
    const failures: unknown[] = [];
    for (const given of [...mountPoints].reverse()) {
      try {
        const mountPoint = checkedMountPoint(given);
        await this.#lock.run(mountPoint, () => this.#drop(mountPoint, opts.includeShared === true));
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) throw combined("cannot release every storage", failures);
  }

  /** DestroySandbox: undoes every storage, shared ones and those still referenced included, newest first. */
  async releaseAll(): Promise<void> {
    const failures: unknown[] = [];
    for (const { key } of this.#refs.entries()) {
      await this.#lock
        .run(key, async () => {
          const setUp = this.#refs.take(key);
          if (setUp) await this.#undo(setUp.undo, key);
        })
        .catch((error: unknown) => failures.push(error));
    }
    if (failures.length > 0) throw combined("cannot release every storage", failures);
  }

  /** Undoes a storage; only once nothing of it is left is it struck from the record. */
  async #undo(undo: CleanupStack, mountPoint: string): Promise<void> {
    await undo.unwind();
    await this.#record?.delete(mountPoint);
  }

  /**
   * Runs `task` on the storages set up at the `target`s of `wanted` (resolved mount points), each locked
   * as for a release: none goes while the task runs. The task gets each of `wanted` with its storage.
   * Locks are taken in the order of their keys, so two such calls never wait on each other crosswise.
   * NOT_FOUND quoting the first target no storage is set up at, before the task and again once locked.
   */
  async withStorages<W extends { readonly target: string }, T>(
    wanted: readonly W[],
    task: (found: (W & SetUpStorage)[]) => Promise<T>,
  ): Promise<T> {
    const keys = [...new Set(this.#setUpAt(wanted).map((s) => s.mountPoint))].sort();
    const locked = keys.reduceRight<() => Promise<T>>(
      (inner, key) => () => this.#lock.run(key, inner),
      () => task(this.#setUpAt(wanted)),
    );
    return locked();
  }

  #setUpAt<W extends { readonly target: string }>(wanted: readonly W[]): (W & SetUpStorage)[] {
    const entries = this.#refs.entries();
    return wanted.map((w) => {
      const entry = entries.find((e) => e.value.target === w.target);
      if (!entry) {
        throw new AgentError(Code.NOT_FOUND, `no storage berth set up is at ${JSON.stringify(w.target)}`);
      }
      return { ...w, storage: entry.value.storage, mountPoint: entry.key };
    });
  }

  /** For tests and diagnostics. */
  list(): { mountPoint: string; driver: string; refs: number }[] {
    return this.#refs
      .entries()
      .map((e) => ({ mountPoint: e.key, driver: e.value.storage.driver, refs: e.refs }));
  }
}
