import { mkdir, open, realpath, rmdir, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import type { Logger } from "../log.js";
import type { CleanupStack } from "../sys/cleanup-stack.js";
import { isMountPoint, mount, UnmountFlag, unmount } from "../sys/mount.js";
import { applyFsGroup } from "./fs-group.js";
import type { StorageContext } from "./storage-driver.js";
import { hasOption } from "./storage-options.js";

/** The errno name ("EBUSY") somewhere in an error's cause chain. */
export function errnoOf(error: unknown): string | undefined {
  for (let e = error; e instanceof Error; e = e.cause) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === "string" && code.startsWith("E")) return code;
  }
  return undefined;
}

/** Removes a directory unless something is in it (then it is data someone may still want: it stays). */
export async function removeDirIfEmpty(path: string, log: Logger): Promise<void> {
  try {
    await rmdir(path);
  } catch (error) {
    const errno = errnoOf(error);
    if (errno === "ENOENT") return;
    if (errno !== "ENOTEMPTY" && errno !== "EEXIST") throw error;
    log.info({ path }, "storage directory is not empty; keeping it");
  }
}

/** mkdir -p; when it created `path`, its undo removes it again (if empty). */
export async function makeDir(undo: CleanupStack, log: Logger, path: string): Promise<void> {
  if ((await mkdir(path, { recursive: true })) === undefined) return;
  undo.push(`remove ${path}`, () => removeDirIfEmpty(path, log));
}

/** Creates `path` as an empty file (and its parents) to bind a file on; undone only if it created it. */
export async function makeFile(undo: CleanupStack, log: Logger, path: string): Promise<void> {
  await makeDir(undo, log, dirname(path));
  try {
    await (await open(path, "wx", 0o644)).close();
  } catch (error) {
    if (errnoOf(error) === "EEXIST") return;
    throw error;
  }
  undo.push(`remove ${path}`, () => unlink(path));
}

async function unmountStorage(target: string, log: Logger): Promise<void> {
  if (!(await isMountPoint(target))) {
    log.warn({ mountPoint: target }, "storage was already unmounted");
    return;
  }
  try {
    await unmount(target);
  } catch (error) {
    if (errnoOf(error) !== "EBUSY") throw error;
    // The containers using it are gone; whatever still holds it must not keep the sandbox from cleaning up.
    log.warn({ mountPoint: target }, "storage is busy; detaching it lazily");
    await unmount(target, UnmountFlag.DETACH);
  }
}

/**
 * Mounts on `target` (an existing mount point, resolved first so that mount, unmount and mountinfo all
 * see the same path even through a symlinked parent such as /var/run) and pushes the unmount. Returns the
 * resolved target.
 */
export async function mountOn(
  ctx: StorageContext,
  source: string,
  target: string,
  fsType: string,
  options: readonly string[],
): Promise<string> {
  const resolved = await realpath(target);
  await mount(source, resolved, fsType, options);
  ctx.undo.push(`unmount ${resolved}`, () => unmountStorage(resolved, ctx.log));
  ctx.log.info({ source, mountPoint: resolved, fsType, options: options.join(",") }, "storage mounted");
  return resolved;
}

/** Kata's common storage handler: create the mount point, mount, then apply the storage's fsGroup. */
export async function mountStorage(
  ctx: StorageContext,
  source: string,
  fsType: string,
  options: readonly string[],
): Promise<void> {
  await makeDir(ctx.undo, ctx.log, ctx.mountPoint);
  const target = await mountOn(ctx, source, ctx.mountPoint, fsType, options);
  await applyFsGroup(target, ctx.storage.fsGroup, hasOption(ctx.storage.options, "ro"), ctx.log);
}
