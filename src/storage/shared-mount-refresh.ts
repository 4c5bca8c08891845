import type { Logger } from "../log.js";
import { settlesWithin } from "../sys/abort.js";
import { CommandError, type runCommand } from "../sys/exec.js";
import { type MountInfo, parseMountinfo } from "../sys/mountinfo.js";
import { readKernelFile } from "../sys/read-kernel-file.js";

/** More mount points than any sandbox has; past it, the rest wait for the next call. */
export const MAX_SHARED_MOUNTS = 4096;

/** Mount points strictly under `dir` (not `dir` itself), each once, in mountinfo's order. */
export function mountPointsUnder(mounts: readonly MountInfo[], dir: string): string[] {
  const prefix = `${dir}/`;
  return [...new Set(mounts.map((m) => m.mountPoint).filter((p) => p.startsWith(prefix)))];
}

export interface SharedMountRefreshDeps {
  /** The shared containers directory (`<run dir>/shared/containers`). */
  readonly sharedDir: string;
  readonly procfs: string;
  readonly log: Logger;
  /** The bound on one stat of them all; the call answers at most a moment later, whatever the stat does. */
  readonly timeoutMs: number;
  readonly run: typeof runCommand;
}

/** What the call waits past the stat's own timeout for the killed stat to be gone. */
const KILL_GRACE_MS = 500;

/**
 * RemoveStaleVirtiofsShareMounts: stats every mount point under the shared directory so that virtiofsd
 * drops what it still holds of those gone on the host (Kata #6455). The host calls it on every container
 * stop and fails the stop on an error, so it never fails: problems are logged. No mount there: one read
 * of mountinfo. Otherwise one `stat` command stats them all, outside the agent: a stat on a virtiofs whose
 * daemon is gone waits in the kernel for good, even through SIGKILL once its request was sent, and in the
 * agent it would hold one of libuv's few threads forever. The call answers within the bound regardless;
 * while a stat from an earlier call has not returned, none is started.
 */
export class SharedMountRefresh {
  readonly #deps: SharedMountRefreshDeps;
  /** A stat started by an earlier call has not returned yet. */
  #statRunning = false;

  constructor(deps: SharedMountRefreshDeps) {
    this.#deps = deps;
  }

  async refresh(signal?: AbortSignal): Promise<void> {
    const { sharedDir, procfs, log, timeoutMs } = this.#deps;
    let mountPoints: string[];
    try {
      mountPoints = mountPointsUnder(
        parseMountinfo(await readKernelFile(`${procfs}/self/mountinfo`)),
        sharedDir,
      );
    } catch (error) {
      log.warn({ err: error }, "cannot read the mount table: the shared mounts are not refreshed");
      return;
    }
    if (mountPoints.length === 0) return;
    if (this.#statRunning) {
      log.warn(
        { sharedDir },
        "a stat of the shared mounts from an earlier call has not returned (is virtiofs hung?): not starting another",
      );
      return;
    }
    if (mountPoints.length > MAX_SHARED_MOUNTS) {
      log.warn(
        { count: mountPoints.length, max: MAX_SHARED_MOUNTS },
        "too many shared mounts: refreshing the first",
      );
    }
    this.#statRunning = true;
    const stat = this.#stat(mountPoints.slice(0, MAX_SHARED_MOUNTS));
    if (!(await settlesWithin(stat, timeoutMs + KILL_GRACE_MS, signal))) {
      log.warn(
        { timeout_ms: timeoutMs },
        "the stat of the shared mounts has not returned: answering without it",
      );
    }
  }

  async #stat(mountPoints: string[]): Promise<void> {
    const { log, timeoutMs, run } = this.#deps;
    const started = Date.now();
    try {
      await run(["stat", "--", ...mountPoints], { timeoutMs, maxOutputBytes: 64 * 1024 });
      log.debug({ count: mountPoints.length, ms: Date.now() - started }, "shared mounts refreshed");
    } catch (error) {
      // A mount whose host directory is gone fails its stat: what the call is for, not a problem.
      const failedStat = error instanceof CommandError && error.exitCode !== null;
      const fields = { count: mountPoints.length, ms: Date.now() - started, err: error };
      if (failedStat) log.info(fields, "shared mounts refreshed; some could not be stat'ed");
      else log.warn(fields, "cannot stat the shared mounts");
    } finally {
      this.#statRunning = false;
    }
  }
}
