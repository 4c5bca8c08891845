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

/** Where each runc call writes its JSON log (no container id starts with "."). */
export const runcLogDir = (paths: AgentPaths) => `${paths.runDir}/.runc-logs`;

/** Sandbox-wide files: resolv.conf, the shm storage. */
export const sandboxDir = (paths: AgentPaths) => `${paths.runDir}/sandbox`;

/**
 * What the agent keeps for the next one, should it die (`<run dir>/.berth`; no container id starts with
 * "."): the storages it mounted and the pid of berth-pause, so a restart can reclaim them.
 */
export const agentStateDir = (paths: AgentPaths) => `${paths.runDir}/.berth`;

/** berth-pause's pid and start time, while it holds the sandbox's PID namespace. */
export const pauseRecord = (paths: AgentPaths) => `${agentStateDir(paths)}/pause.json`;

/** The mount points of the storages being set up or set up (StorageRegistry). */
export const storageRecord = (paths: AgentPaths) => `${agentStateDir(paths)}/storages.json`;
