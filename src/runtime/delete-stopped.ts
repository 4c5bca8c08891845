import { readFile, rm, rmdir } from "node:fs/promises";
import { removeEmptyCgroup } from "../cgroup/cgroup-kill.js";
import { AgentError } from "../errors.js";
import { isRunning, type ProcessIdentity } from "../sys/process-identity.js";
import { removeFile } from "../sys/remove-file.js";
import { EXEC_FIFO } from "./exec-fifo.js";

const STATE_FILE = "state.json";

/** What deleting a stopped container takes, read from runc's state.json: its init, and its cgroups. */
export interface StoppedDelete {
  init: ProcessIdentity;
  cgroupDirs: string[];
}

interface StateFile {
  init_process_pid?: unknown;
  init_process_start?: unknown;
  cgroup_paths?: unknown;
  intel_rdt_path?: unknown;
  rootless?: unknown;
  config?: {
    Hooks?: { poststop?: unknown } | null;
    cgroups?: { Systemd?: unknown } | null;
    intel_rdt?: unknown;
    namespaces?: unknown;
  };
}

const hasOwnPidNamespace = (namespaces: unknown): boolean =>
  Array.isArray(namespaces) &&
  namespaces.some((ns: { type?: unknown; path?: unknown }) => ns?.type === "NEWPID" && ns.path === "");

const isCgroupDir = (path: unknown): path is string =>
  typeof path === "string" && path.startsWith("/") && !path.split("/").includes("..");

/**
 * The delete of runc's destroy() that berth does itself, read from a state.json of runc 1.0 to 1.3 (see
 * knowsRuncLayout): undefined whenever runc's own delete has more to do (poststop hooks to run, cgroups
 * under systemd, an Intel RDT group, rootless cgroups, processes to kill because the PID namespace is
 * not the container's own) or the file is not what those versions write.
 */
export function stoppedDelete(stateJson: string): StoppedDelete | undefined {
  let state: StateFile;
  try {
    state = JSON.parse(stateJson) as StateFile;
  } catch {
    return undefined;
  }
  if (typeof state !== "object" || state === null) return undefined;
  const { init_process_pid: pid, init_process_start: start, config } = state;
  if (typeof pid !== "number" || !Number.isSafeInteger(pid) || pid <= 0) return undefined;
  if (typeof start !== "number" || !Number.isSafeInteger(start) || start < 0) return undefined;
  if (typeof config !== "object" || config === null) return undefined;
  const poststop = config.Hooks?.poststop;
  if (poststop !== undefined && poststop !== null && !(Array.isArray(poststop) && poststop.length === 0)) {
    return undefined;
  }
  const systemd = config.cgroups?.Systemd;
  if (systemd !== undefined && systemd !== false) return undefined;
  if (config.intel_rdt != null || (state.intel_rdt_path !== undefined && state.intel_rdt_path !== "")) {
    return undefined;
  }
  if (state.rootless !== false || !hasOwnPidNamespace(config.namespaces)) return undefined;
  const paths = state.cgroup_paths ?? {};
  if (typeof paths !== "object" || paths === null || Array.isArray(paths)) return undefined;
  const dirs = Object.values(paths);
  if (!dirs.every(isCgroupDir)) return undefined;
  return { init: { pid, startTime: String(start) }, cgroupDirs: [...new Set(dirs)] };
}

/**
 * Deletes stopped container `stateDir` as `runc delete` would, without a runc process (4–7 ms a delete
 * here): when its state.json allows it (stoppedDelete) and its init no longer runs, removes its cgroups
 * and `alsoCgroups`, each retried while the kernel still says busy (see removeEmptyCgroup), then its state
 * dir. False, with nothing removed but empty cgroups, whenever runc's delete is needed: the file asks
 * more, the init runs, a cgroup holds a process or a cgroup of its own, or cannot be removed.
 */
export async function deleteStopped(stateDir: string, alsoCgroups: readonly string[] = []): Promise<boolean> {
  const text = await readFile(`${stateDir}/${STATE_FILE}`, "utf8").catch(() => undefined);
  const plan = text === undefined ? undefined : stoppedDelete(text);
  if (!plan || (await isRunning(plan.init))) return false;
  const dirs = [...new Set([...plan.cgroupDirs, ...alsoCgroups])];
  const gone = await Promise.all(dirs.map((dir) => removeEmptyCgroup(dir).catch(() => false)));
  if (gone.includes(false)) return false;
  await removeStateDir(stateDir);
  return true;
}

/**
 * Removes a stopped container's state dir: what runc keeps there (state.json; exec.fifo if it was never
 * started), then the dir; anything else in it, as runc's RemoveAll would.
 */
async function removeStateDir(dir: string): Promise<void> {
  try {
    await Promise.all([STATE_FILE, EXEC_FIFO].map((name) => removeFile(`${dir}/${name}`)));
    await rmdir(dir).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return;
      if (error.code !== "ENOTEMPTY") throw error;
      await rm(dir, { recursive: true, force: true });
    });
  } catch (error) {
    throw AgentError.wrap(error, `cannot remove ${dir}`);
  }
}
