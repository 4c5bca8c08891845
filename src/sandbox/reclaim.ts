import { readdir, readFile, rm, rmdir, stat } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { bundlePaths } from "../bundle/bundle-paths.js";
import { checkContainerId } from "../bundle/container-id.js";
import {
  type AgentPaths,
  agentStateDir,
  pauseRecord,
  runcLogDir,
  sandboxDir,
  storageRecord,
} from "../config/agent-paths.js";
import { AgentError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Runc } from "../runtime/runc.js";
import { currentMounts, UnmountFlag, unmount } from "../sys/mount.js";
import { pathExists } from "../sys/path-exists.js";
import { PersistedSet } from "../sys/persisted-set.js";
import {
  isRunning,
  type ProcessIdentity,
  processCommandLines,
  readProcess,
} from "../sys/process-identity.js";
import { holdsMount, mountsToReclaim, runsOnRoot } from "./reclaim-plan.js";

export interface ReclaimDeps {
  readonly paths: AgentPaths;
  readonly runc: Runc;
  readonly log: Logger;
}

/** What a start found of an agent that died, and undid. */
export interface Reclaimed {
  /** runc calls of the dead agent still running (a `runc create` in its hooks), killed first. */
  runcCalls: number[];
  /** berth-pause ended (the sandbox's PID namespace, and every process in it, with it). */
  pause: boolean;
  /** runc containers deleted (their processes killed, their cgroups and state removed). */
  containers: string[];
  /** Mount points unmounted. */
  unmounted: string[];
  /** Files and directories of the run dir and the sandbox-ns dir removed. */
  removed: string[];
  /** What could not be undone, each saying why: reported, never a reason not to serve. */
  failures: string[];
}

/** How long a killed process of the dead agent may take to go. */
const GONE_MS = 2000;
/** Namespace files a sandbox bind-mounts in the sandbox-ns dir. */
const NAMESPACE_FILES = ["uts", "ipc", "pid"];
/** The most bind mounts over resolv.conf undone; more would be a loop, not a stack. */
const MAX_RESOLV_STACK = 16;

/**
 * Undoes what an agent that died (SIGKILL, a crash, a SIGTERM past its bound) left, before this one
 * serves: berth-pause and the PID namespace it holds, every runc container in the runc root (processes,
 * cgroups, state), the resolv.conf bind mount, every mount beneath the run dir and the sandbox-ns dir and
 * at the storage mount points it recorded, then the bundles, namespace files and sandbox files. Live
 * containers cannot be taken over (their stdio went with the old agent), so they are ended: a host whose
 * agent restarted sees its sandbox gone and starts again, and CreateSandbox and the same container ids
 * then work. On a fresh guest this finds nothing and costs a few reads.
 */
export async function reclaimLeftovers(deps: ReclaimDeps): Promise<Reclaimed> {
  const done: Reclaimed = {
    runcCalls: [],
    pause: false,
    containers: [],
    unmounted: [],
    removed: [],
    failures: [],
  };
  const attempt = async (what: string, step: () => Promise<void>) => {
    try {
      await step();
    } catch (error) {
      done.failures.push(AgentError.wrap(error, what).message);
    }
  };
  const { paths } = deps;
  await attempt("cannot end the runc calls left running", async () => {
    done.runcCalls = await killRuncCalls(paths.runcRoot);
  });
  await attempt("cannot end berth-pause", async () => {
    done.pause = await endPause(pauseRecord(paths));
  });
  let ids: string[] = [];
  await attempt("cannot list the runc containers", async () => {
    ids = await runcIds(paths.runcRoot);
  });
  for (const id of ids) {
    await attempt(`cannot delete runc container ${id}`, async () => {
      await deps.runc.deleteLeftovers(id, { bundle: bundlePaths(paths, id).dir });
      done.containers.push(id);
    });
  }
  await attempt("cannot unmount resolv.conf", () => unmountResolvConf(paths, done));
  let recorded: string[] = [];
  await attempt("cannot read the storage record", async () => {
    recorded = await PersistedSet.read(storageRecord(paths));
  });
  await attempt("cannot unmount", () => unmountLeftovers(paths, recorded, done));
  await attempt("cannot remove", () => removeLeftovers(paths, recorded, done));
  const found =
    done.pause ||
    done.runcCalls.length + done.containers.length + done.unmounted.length + done.removed.length > 0;
  if (found || done.failures.length > 0) {
    const fields = { subsystem: "reclaim", ...done };
    if (done.failures.length > 0) deps.log.warn(fields, "could not reclaim all a previous agent left");
    else deps.log.info(fields, "reclaimed what a previous agent left");
  }
  return done;
}

/**
 * Kills every runc still working on this agent's runc root: nothing of this agent runs yet, so each was
 * started by the one that died, and would go on (a `runc create` finishing after its hooks) behind the
 * reclaim's back.
 */
async function killRuncCalls(root: string): Promise<number[]> {
  const calls = (await processCommandLines()).filter(
    (p) => p.pid !== process.pid && runsOnRoot(p.argv, root),
  );
  const killed: ProcessIdentity[] = [];
  for (const { pid } of calls) {
    const running = await readProcess(pid);
    if (!running) continue;
    killed.push({ pid, startTime: running.startTime });
    process.kill(pid, "SIGKILL");
  }
  await untilGone(killed);
  return killed.map((k) => k.pid);
}

/** Waits (bounded) until none of these processes runs: they are not this agent's children, others reap them. */
async function untilGone(processes: readonly ProcessIdentity[]): Promise<void> {
  const deadline = Date.now() + GONE_MS;
  for (const p of processes) {
    while (await isRunning(p)) {
      if (Date.now() > deadline) throw new Error(`process ${p.pid} outlived SIGKILL`);
      await sleep(10);
    }
  }
}

/** Ends the berth-pause a record names, if that very process still runs; true if it did. */
async function endPause(record: string): Promise<boolean> {
  let identity: ProcessIdentity;
  try {
    identity = JSON.parse(await readFile(record, "utf8")) as ProcessIdentity;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    await rm(record, { force: true });
    throw error;
  }
  const running = (await readProcess(identity.pid))?.comm === "berth-pause" && (await isRunning(identity));
  if (running) {
    process.kill(identity.pid, "SIGKILL");
    await untilGone([identity]);
  }
  await rm(record, { force: true });
  return running;
}

/** The container ids runc keeps state for (a directory each in its root). */
async function runcIds(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw AgentError.wrap(error, `cannot list the runc root ${root}`);
  });
  return entries.filter((e) => e.isDirectory() && isContainerId(e.name)).map((e) => e.name);
}

function isContainerId(name: string): boolean {
  try {
    checkContainerId(name);
    return true;
  } catch {
    return false;
  }
}

/** Unmounts the sandbox's DNS file from resolv.conf, as often as it was stacked there. */
async function unmountResolvConf(paths: AgentPaths, done: Reclaimed): Promise<void> {
  const ours = `${sandboxDir(paths)}/resolv.conf`;
  for (let i = 0; i < MAX_RESOLV_STACK; i++) {
    const [target, source] = await Promise.all([
      stat(paths.resolvConf).catch(() => undefined),
      stat(ours).catch(() => undefined),
    ]);
    if (!target || !source || target.dev !== source.dev || target.ino !== source.ino) return;
    await unmount(paths.resolvConf, UnmountFlag.DETACH);
    done.unmounted.push(paths.resolvConf);
  }
}

async function unmountLeftovers(paths: AgentPaths, recorded: string[], done: Reclaimed): Promise<void> {
  const owned = [paths.runDir, paths.sandboxNsDir];
  for (const m of mountsToReclaim(await currentMounts(), { owned, recorded })) {
    try {
      await unmount(m.mountPoint, UnmountFlag.DETACH);
      done.unmounted.push(m.mountPoint);
    } catch (error) {
      done.failures.push(AgentError.from(error).message);
    }
  }
}

/**
 * Removes the namespace files, the bundles and every other entry of the run dir, and the storage mount
 * points' own directories when empty, except where a mount is still in place (a directory holding one
 * could hold the host's files).
 */
async function removeLeftovers(paths: AgentPaths, recorded: string[], done: Reclaimed): Promise<void> {
  const mounts = await currentMounts();
  const remove = async (path: string, how: () => Promise<void>) => {
    if (holdsMount(mounts, path)) {
      done.failures.push(`${path} still holds a mount: kept`);
      return;
    }
    await how();
    done.removed.push(path);
  };
  for (const name of NAMESPACE_FILES) {
    const file = `${paths.sandboxNsDir}/${name}`;
    if (await pathExists(file)) await remove(file, () => rm(file, { force: true }));
  }
  for (const path of await children(paths.runDir)) {
    // This agent's runc log directory is in use already (the reclaim ran runc): only its old logs go.
    if (path === runcLogDir(paths)) {
      for (const log of await children(path)) await remove(log, () => rm(log, { force: true }));
    } else if (path !== agentStateDir(paths)) {
      await remove(path, () => rm(path, { recursive: true, force: true }));
    }
  }
  for (const point of recorded) {
    if (point.startsWith(`${paths.runDir}/`) || holdsMount(mounts, point)) continue;
    // The storage's own directory, made for it; one holding anything else is kept.
    if (
      await rmdir(point).then(
        () => true,
        () => false,
      )
    )
      done.removed.push(point);
  }
  await rm(agentStateDir(paths), { recursive: true, force: true });
}

async function children(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [])).map((name) => `${dir}/${name}`);
}
