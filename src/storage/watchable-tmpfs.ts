import { opendir, realpath, stat } from "node:fs/promises";
import { AgentError, Code } from "../errors.js";
import type { Logger } from "../log.js";
import { currentMounts, mount, UnmountFlag, unmount } from "../sys/mount.js";
import { KeyedLock } from "./keyed-lock.js";
import { errnoOf } from "./storage-steps.js";

/** The source berth's watchable tmpfs shows in mountinfo, so that it is never mistaken for another tmpfs. */
export const WATCHABLE_TMPFS_SOURCE = "berth-watchable";

/**
 * The watchable tmpfs of a directory is the kernel's, shared by every storage in it, so its users are
 * serialised per directory in the whole agent: mounting it, filling it with a copy's root, emptying it and
 * unmounting it never interleave.
 */
const dirs = new KeyedLock();

async function ourTmpfsAt(path: string): Promise<boolean> {
  const top = (await currentMounts()).filter((m) => m.mountPoint === path).at(-1);
  return top?.fsType === "tmpfs" && top.source === WATCHABLE_TMPFS_SOURCE;
}

async function isEmpty(path: string): Promise<boolean> {
  for await (const _ of await opendir(path, { bufferSize: 1 })) return false;
  return true;
}

/**
 * Runs `task` holding the watchable directory `dir`, with berth's tmpfs on it (mounted first, nosuid and
 * nodev, when it is not there yet). `dir` must exist: the runtime makes it in the shared directory.
 */
export function withWatchableTmpfs<T>(dir: string, log: Logger, task: () => Promise<T>): Promise<T> {
  return dirs.run(dir, async () => {
    const resolved = await realpath(dir).catch((error: unknown) => {
      if (errnoOf(error) !== "ENOENT") throw error;
      throw new AgentError(Code.NOT_FOUND, `watchable directory ${JSON.stringify(dir)} does not exist`, {
        cause: error,
      });
    });
    if (!(await stat(resolved)).isDirectory()) {
      throw new AgentError(
        Code.INVALID_ARGUMENT,
        `watchable directory ${JSON.stringify(dir)} is not a directory`,
      );
    }
    if (!(await ourTmpfsAt(resolved))) {
      await mount(WATCHABLE_TMPFS_SOURCE, resolved, "tmpfs", ["nosuid", "nodev", "mode=0755"]);
      log.info({ dir: resolved }, "watchable tmpfs mounted");
    }
    return task();
  });
}

/** Unmounts berth's tmpfs from the watchable directory `dir` once nothing is left in it. */
export function releaseWatchableTmpfs(dir: string, log: Logger): Promise<void> {
  return dirs.run(dir, async () => {
    const resolved = await realpath(dir).catch(() => undefined);
    if (resolved === undefined || !(await ourTmpfsAt(resolved))) return;
    if (!(await isEmpty(resolved))) return;
    try {
      await unmount(resolved);
    } catch (error) {
      if (errnoOf(error) !== "EBUSY") throw error;
      log.warn({ dir: resolved }, "watchable tmpfs is busy; detaching it lazily");
      await unmount(resolved, UnmountFlag.DETACH);
    }
    log.info({ dir: resolved }, "watchable tmpfs unmounted");
  });
}
