import type { RunOptions } from "../sys/exec.js";
import type { CreateArgs, ExecArgs } from "./runc-args.js";

/** How one runtime call may be cut short: by the caller's end, or by a bound tighter than the runtime's. */
export interface CallOptions {
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
}

export interface LaunchOptions extends CallOptions {
  /** The fds the process gets as stdin, stdout and stderr (none for a terminal process). */
  stdio?: RunOptions["stdio"] | undefined;
}

/**
 * The OCI runtime as the container core uses it: runc in the agent, a scripted fake in unit tests. Each
 * method is one runtime verb; a failure is an AgentError in the runtime's own words.
 */
export interface OciRuntime {
  create(id: string, args: CreateArgs, options?: LaunchOptions): Promise<void>;
  /** Starts an extra process, detached: it returns once the process runs. */
  exec(id: string, args: ExecArgs, options?: LaunchOptions): Promise<void>;
  /**
   * Starts a created container. It returns once the exec of the container's program is past its point of
   * no return (runc's exec FIFO has closed), which may be before /proc shows the program.
   */
  start(id: string, options?: CallOptions): Promise<void>;
  /** `all`: every process of the container, not only its init. */
  kill(id: string, signal: number, options?: CallOptions & { all?: boolean }): Promise<void>;
  /**
   * Removes whatever the runtime holds or left behind for `id`, whatever state it is in: a container it
   * knows is force-deleted; one a killed `create` left half made loses its processes, cgroups and state.
   * `bundle` is where its config.json is (for its cgroups path), if there is one; `created` says its create
   * returned, so it cannot be half made; `cgroups` are the container's cgroup directories as the agent
   * found them, each removed too if the runtime left it, once empty. Resolves with those of `cgroups` left
   * because something still uses them. Nothing left is no error.
   */
  deleteLeftovers(
    id: string,
    options?: { bundle?: string | undefined; created?: boolean; cgroups?: readonly string[] },
  ): Promise<string[]>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  /** New cgroup limits, as OCI LinuxResources JSON. */
  update(id: string, resources: string): Promise<void>;
  /** The pids of the container's processes, as the agent sees them. */
  pids(id: string): Promise<number[]>;
}
