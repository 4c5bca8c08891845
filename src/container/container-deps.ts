import type { AgentPaths } from "../config/agent-paths.js";
import type { Faults } from "../config/faults.js";
import type { DeviceWaiter } from "../device/device-registry.js";
import type { Logger } from "../log.js";
import type { LaunchOptions } from "../process/launch.js";
import type { OciRuntime } from "../runtime/oci-runtime.js";
import type { StorageRegistry } from "../storage/storage-registry.js";
import type { ByteBudget } from "../sys/byte-budget.js";
import type { Reaper } from "../sys/reaper.js";

/** The bounds a container keeps to; tests tighten them. */
export interface ContainerBounds {
  /** How long `runc kill` may take before removal kills the processes itself. */
  readonly runcKillMs: number;
  /** How long removal waits for the init to exit after each way of killing it. */
  readonly exitWaitMs: number;
  /**
   * How long an exited exec that nobody waited for keeps its stdio open (for the host's last reads);
   * then its fds close, reads see EOF, and only its exit status stays, for WaitProcess.
   */
  readonly stdioLingerMs: number;
  /** Processes ExecProcess started and WaitProcess has not released yet, per container. */
  readonly unwaitedExecs: number;
}

export const DEFAULT_BOUNDS: ContainerBounds = {
  runcKillMs: 5_000,
  exitWaitMs: 5_000,
  stdioLingerMs: 60_000,
  unwaitedExecs: 1024,
};

/** What creating and running a container is given, so tests choose every part. */
export interface ContainerDeps {
  readonly paths: AgentPaths;
  readonly runc: OciRuntime;
  readonly reaper: Pick<Reaper, "wait">;
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
  /** sysfs, for online CPUs and device addresses (default /sys). */
  readonly sysfs: string;
  /** Where devices are awaited (the agent's one registry, fed by its uevent listener). */
  readonly devices: DeviceWaiter;
  /** How long a device may take to appear (agent.hotplug_timeout). */
  readonly hotplugTimeoutMs: number;
  /** DEFAULT_BOUNDS unless a test sets tighter ones. */
  readonly bounds?: Partial<ContainerBounds>;
}

/** How a container's processes get their stdio: console sockets in the run dir, the pipe size, the reply budget. */
export function launchOptions(deps: ContainerDeps): LaunchOptions {
  return {
    socketDir: deps.paths.runDir,
    outputPipeSize: deps.containerPipeSize,
    replyBudget: deps.replyBudget,
  };
}
