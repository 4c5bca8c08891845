/**
 * Every on-disk root the agent writes under. Defaults are Kata's; tests point them at temporary
 * directories.
 */
export interface AgentPaths {
  /** Container bundles (`<runDir>/<id>`), the shared directory and the sandbox directory. */
  runDir: string;
  /** Where the sandbox's UTS and IPC namespaces are kept, bind-mounted as files. */
  sandboxNsDir: string;
  /** The guest's resolv.conf, which the sandbox's DNS file is bind-mounted over. */
  resolvConf: string;
  /** runc's state directory (`runc --root`). */
  runcRoot: string;
}

export const DEFAULT_PATHS: AgentPaths = {
  runDir: "/run/kata-containers",
  sandboxNsDir: "/var/run/sandbox-ns",
  resolvConf: "/etc/resolv.conf",
  runcRoot: "/run/runc",
};

/** Where the host's shared filesystem appears (Kata: `kataShared`, mounted by a sandbox storage). */
export const sharedContainersDir = (paths: AgentPaths) => `${paths.runDir}/shared/containers`;

/** Sandbox-wide files: resolv.conf, the shm storage. */
export const sandboxDir = (paths: AgentPaths) => `${paths.runDir}/sandbox`;
