import type { AgentPaths } from "../config/agent-paths.js";
import type { Faults } from "../config/faults.js";
import type { Logger } from "../log.js";
import type { Runc } from "../runtime/runc.js";
import type { StorageRegistry } from "../storage/storage-registry.js";
import type { ByteBudget } from "../sys/byte-budget.js";
import type { Reaper } from "../sys/reaper.js";

/** What creating and running a container is given, so tests choose every part. */
export interface ContainerDeps {
  readonly paths: AgentPaths;
  readonly runc: Runc;
  readonly reaper: Reaper;
  readonly storages: StorageRegistry;
  readonly log: Logger;
  readonly faults: Faults;
  /** The guest's root is an initramfs (`rootfs`), where pivot_root cannot work: runc --no-pivot. */
  readonly noPivot: boolean;
  /** Capacity of each container process's stdout and stderr pipe (agent.container_pipe_size; 0 = kernel's). */
  readonly containerPipeSize: number;
  /**
   * Charged for process output from when it leaves the pipe until its ReadStdout/ReadStderr reply is
   * handed on (the server's reply budget, shared); without one, each process has a small one of its own.
   */
  readonly replyBudget?: ByteBudget;
  /** sysfs, for online CPUs and the PCI rescan (default /sys). */
  readonly sysfs: string;
}
