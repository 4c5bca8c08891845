import { constants } from "node:os";
import { type CgroupDirs, eachCgroupDir } from "../cgroup/cgroup-dirs.js";
import { killCgroupProcesses } from "../cgroup/cgroup-kill.js";
import type { ContainerProcess } from "../process/container-process.js";
import { settlesWithin } from "../sys/abort.js";
import type { ContainerBounds, ContainerDeps } from "./container-deps.js";
import type { ContainerState } from "./container-state.js";

const { SIGKILL } = constants.signals;

/** What killing a container needs of it. */
export interface Killable {
  readonly id: string;
  readonly init: ContainerProcess;
  readonly cgroup: CgroupDirs;
  /** A PID namespace of its own: when its init has exited, the kernel has ended every process in it. */
  readonly ownPidNamespace: boolean;
  /** "paused" while frozen: a frozen process takes no signal until it is thawed. */
  readonly state: ContainerState;
}

/**
 * Kills every process of a container and waits, bounded, for its init to exit. A running container with
 * a PID namespace of its own needs no runc process: SIGKILL to its init, and the kernel ends every process
 * in the namespace. Any other gets `runc kill --all` (runc freezes, signals and thaws, so a paused
 * container dies too, and finds the container's processes in a shared namespace); when that kill fails,
 * runc hangs past `runcKillMs`, or the kill does not end the init within `exitWaitMs`: SIGKILL to the init
 * itself and to every process in the container's cgroups, thawed. Gives up after one more `exitWaitMs`, so one stuck
 * container never holds a removal for good. Once the init has gone, what is left in the cgroups is killed
 * directly, when there can be anything: its execs may live on in a shared PID namespace, never in one of
 * its own. Resolves with whether the init has exited.
 */
export async function killContainer(
  c: Killable,
  deps: Pick<ContainerDeps, "runc" | "log">,
  bounds: ContainerBounds,
): Promise<boolean> {
  if (!c.init.exit) {
    const direct = c.ownPidNamespace && c.state !== "paused";
    const ranKill = await (direct ? killInit(c, deps.log) : runcKill(c, deps, bounds));
    if (ranKill && (await settlesWithin(c.init.exited, bounds.exitWaitMs))) return true;
    if (!c.init.exit) {
      if (ranKill) {
        deps.log.warn(
          { container: c.id },
          direct
            ? "the init outlived SIGKILL: killing its cgroups"
            : "the init outlived runc kill: killing it directly",
        );
      }
      await killInit(c, deps.log);
    }
  }
  if (c.init.exit && c.ownPidNamespace) return true;
  await killCgroups(c.cgroup);
  if (await settlesWithin(c.init.exited, bounds.exitWaitMs)) return true;
  deps.log.error(
    { container: c.id, pid: c.init.pid, waitedMs: bounds.runcKillMs + 2 * bounds.exitWaitMs },
    "the container's init did not exit after SIGKILL: going on without it",
  );
  return false;
}

/** SIGKILL to the container's init; false (logged) when it cannot be sent. */
function killInit(c: Killable, log: ContainerDeps["log"]): Promise<boolean> {
  return c.init.signal(SIGKILL).then(
    () => true,
    (error: unknown) => {
      log.warn({ container: c.id, pid: c.init.pid, err: error }, "cannot SIGKILL the container's init");
      return false;
    },
  );
}

/** `runc kill --all` SIGKILL, bounded by `runcKillMs`; false (logged) when runc fails or hangs. */
function runcKill(
  c: Killable,
  deps: Pick<ContainerDeps, "runc" | "log">,
  bounds: ContainerBounds,
): Promise<boolean> {
  return deps.runc.kill(c.id, SIGKILL, { all: true, timeoutMs: bounds.runcKillMs }).then(
    () => true,
    (error: unknown) => {
      deps.log.warn(
        { container: c.id, err: error },
        "runc kill failed: killing the container's processes directly",
      );
      return false;
    },
  );
}

async function killCgroups(cgroup: CgroupDirs): Promise<void> {
  await Promise.all(eachCgroupDir(cgroup).map(killCgroupProcesses));
}

/** Kills a process berth will not hand out (SIGKILL), waits a bounded time for its exit, closes its stdio. */
export async function discardProcess(proc: ContainerProcess, bounds: ContainerBounds): Promise<void> {
  await proc.signal(SIGKILL).catch(() => {});
  await settlesWithin(proc.exited, bounds.exitWaitMs);
  proc.release();
}
