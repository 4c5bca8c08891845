import type { AgentPaths } from "../config/agent-paths.js";
import type { BlockContext } from "../device/block-devices.js";
import type { Logger } from "../log.js";
import type { CleanupStack } from "../sys/cleanup-stack.js";
import type { StorageSpec } from "./storage-spec.js";

/** What a driver gets to set one storage up. */
export interface StorageContext {
  readonly storage: StorageSpec;
  /** `storage.mountPoint`, checked and normalised. */
  readonly mountPoint: string;
  /** The container the storage is for; undefined for a sandbox storage. Already checked. */
  readonly containerId: string | undefined;
  readonly paths: AgentPaths;
  /** sysfs root (hugepage pools). */
  readonly sysfs: string;
  /** Where a block storage waits for its disk, for how long, and the call's signal. */
  readonly devices: BlockContext;
  readonly log: Logger;
  /**
   * The storage's undo steps: a driver pushes one after each step that creates something. They run newest
   * first when a later step fails, and again (the same stack) when the storage's last reference goes.
   */
  readonly undo: CleanupStack;
}

/** One family of storages, selected by the wire's `driver` string. */
export interface StorageDriver {
  readonly names: readonly string[];
  /** Rejects a malformed storage before anything of the request is set up. */
  check(storage: StorageSpec): void;
  setup(ctx: StorageContext): Promise<void>;
}
