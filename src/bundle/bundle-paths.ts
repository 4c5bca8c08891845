import type { AgentPaths } from "../config/agent-paths.js";
import { checkContainerId } from "./container-id.js";

/** Every file of a container under the run dir (Kata's layout, `<run dir>/<id>`), named in one place. */
export interface BundlePaths {
  readonly id: string;
  /** The bundle directory runc is given. */
  readonly dir: string;
  /** The container's root, bind-mounted from the spec's `root.path` unless that is already here. */
  readonly rootfs: string;
  readonly config: string;
  /** Where `runc create` writes the init's pid. */
  readonly initPid: string;
  /** A writable overlay's layers (`io.katacontainers.fs-opt.overlay-rw`). */
  readonly upper: string;
  readonly work: string;
  /** The process spec and pid file of the exec numbered `n`. */
  exec(n: number): { readonly process: string; readonly pid: string };
}

/** The bundle of container `id`; the id is checked first (INVALID_ARGUMENT), so no path leads elsewhere. */
export function bundlePaths(paths: AgentPaths, id: string): BundlePaths {
  checkContainerId(id);
  const dir = `${paths.runDir}/${id}`;
  return {
    id,
    dir,
    rootfs: `${dir}/rootfs`,
    config: `${dir}/config.json`,
    initPid: `${dir}/init.pid`,
    upper: `${dir}/upper`,
    work: `${dir}/work`,
    exec: (n) => ({ process: `${dir}/exec-${n}.json`, pid: `${dir}/exec-${n}.pid` }),
  };
}
