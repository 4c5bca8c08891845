/** Flags every runc call takes: its state directory and a JSON log whose last error becomes our message. */
export interface RuncGlobals {
  root: string;
  log: string;
}

export interface CreateArgs {
  bundle: string;
  pidFile: string;
  /** A unix socket where runc sends the pty master of a terminal process. */
  consoleSocket?: string | undefined;
  /** Use chroot-style MS_MOVE instead of pivot_root: needed when the guest's root is an initramfs. */
  noPivot: boolean;
}

export interface ExecArgs {
  /** The process.json to run. */
  process: string;
  pidFile: string;
  consoleSocket?: string | undefined;
}

const globals = (g: RuncGlobals) => ["--root", g.root, "--log", g.log, "--log-format", "json"];

/**
 * Pure builders of runc argv (the binary excluded). A new session keyring is always off: the Kata agent
 * asked libcontainer for NoNewKeyring, and a guest has no use for per-container keyrings.
 */
export const runcArgs = {
  create: (g: RuncGlobals, id: string, a: CreateArgs) => [
    ...globals(g),
    "create",
    "--bundle",
    a.bundle,
    "--pid-file",
    a.pidFile,
    "--no-new-keyring",
    ...(a.noPivot ? ["--no-pivot"] : []),
    ...(a.consoleSocket ? ["--console-socket", a.consoleSocket] : []),
    id,
  ],
  start: (g: RuncGlobals, id: string) => [...globals(g), "start", id],
  /** Detached: runc returns once the process runs; berth, a subreaper, inherits it. */
  exec: (g: RuncGlobals, id: string, a: ExecArgs) => [
    ...globals(g),
    "exec",
    "--detach",
    "--process",
    a.process,
    "--pid-file",
    a.pidFile,
    ...(a.consoleSocket ? ["--console-socket", a.consoleSocket] : []),
    id,
  ],
  kill: (g: RuncGlobals, id: string, signal: number, all: boolean) => [
    ...globals(g),
    "kill",
    ...(all ? ["--all"] : []),
    id,
    String(signal),
  ],
  delete: (g: RuncGlobals, id: string, force: boolean) => [
    ...globals(g),
    "delete",
    ...(force ? ["--force"] : []),
    id,
  ],
  state: (g: RuncGlobals, id: string) => [...globals(g), "state", id],
  features: (g: RuncGlobals) => [...globals(g), "features"],
  pause: (g: RuncGlobals, id: string) => [...globals(g), "pause", id],
  resume: (g: RuncGlobals, id: string) => [...globals(g), "resume", id],
  /** The new resources, OCI LinuxResources JSON, come on stdin. */
  update: (g: RuncGlobals, id: string) => [...globals(g), "update", "--resources", "-", id],
  /** The pids of the container's processes, as a JSON array. */
  ps: (g: RuncGlobals, id: string) => [...globals(g), "ps", "--format", "json", id],
};
