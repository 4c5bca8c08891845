import { constants } from "node:os";
import { type CgroupDirs, eachCgroupDir } from "../cgroup/cgroup-dirs.js";
import { killCgroupProcesses } from "../cgroup/cgroup-kill.js";
import type { ContainerProcess } from "../process/container-process.js";
import { settlesWithin } from "../sys/abort.js";
import type { ContainerBounds, ContainerDeps } from "./container-deps.js";

const { SIGKILL } = constants.signals;

/** What killing a container needs of it. */
export interface Killable {
  readonly id: string;
  readonly init: ContainerProcess;
  readonly cgroup: CgroupDirs;
  /** A PID namespace of its own: when its init has exited, the kernel has ended every process in it. */
  readonly ownPidNamespace: boolean;
}

/**
 * Kills every process of a container and waits, bounded, for its init to exit. `runc kill --all` first
 * (runc freezes, signals and thaws, so a paused container dies too); when runc fails, hangs past
 * `runcKillMs`, or its kill does not end the init within `exitWaitMs`: SIGKILL to the init itself and to
 * every process in the container's cgroups, thawed. Gives up after one more `exitWaitMs`, so one stuck
 * container never holds a removal for good. Once the init has gone, what is left in the cgroups is killed
 * directly, when there can be anything: its execs may live on in a shared PID namespace, never in one of
 * its own. Resolves with whether the init has exited.
 */
export async function killContainer(
  c: Killable,
  deps: Pick<ContainerDeps, "runc" | "log">,
  bounds: ContainerBounds,
): Promise<boolean> {
  const { runc, log } = deps;
  if (!c.init.exit) {
    const ranKill = await runc.kill(c.id, SIGKILL, { all: true, timeoutMs: bounds.runcKillMs }).then(
      () => true,
      (error: unknown) => {
        log.warn(
          { container: c.id, err: error },
          "runc kill failed: killing the container's processes directly",
        );
        return false;
      },
    );
    if (ranKill && (await settlesWithin(c.init.exited, bounds.exitWaitMs))) return true;
    if (!c.init.exit) {
      if (ranKill) log.warn({ container: c.id }, "the init outlived runc kill: killing it directly");
      await c.init.signal(SIGKILL).catch((error: unknown) => {
        log.warn({ container: c.id, pid: c.init.pid, err: error }, "cannot SIGKILL the container's init");
      });
    }
  }
  if (c.init.exit && c.ownPidNamespace) return true;
  await killCgroups(c.cgroup);
  if (await settlesWithin(c.init.exited, bounds.exitWaitMs)) return true;
  log.error(
    { container: c.id, pid: c.init.pid, waitedMs: bounds.runcKillMs + 2 * bounds.exitWaitMs },
    "the container's init did not exit after SIGKILL: going on without it",
  );
  return false;
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
