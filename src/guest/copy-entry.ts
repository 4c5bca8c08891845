import { constants, fchmod, fchown } from "node:fs";
import { promisify } from "node:util";
import type { Logger } from "../log.js";
import { lchownAt, mkdirAt, openBeneath, renameAt, symlinkAt, unlinkAt, withFd } from "../sys/beneath.js";
import { hasErrno } from "../sys/errno.js";
import { randomHex } from "../sys/random.js";
import type { CopyPlan } from "./copy-file-request.js";
import { openParent } from "./shared-dir.js";

const fchownAsync = promisify(fchown);
const fchmodAsync = promisify(fchmod);

/** A hidden, random name beside the target for an entry being put together; never the target's name. */
export function temporaryName(): string {
  return `.berth-copy-${randomHex(8)}`;
}

/** Owner first, then mode: chown clears setuid and setgid, so Kata's order (mode, then owner) lost them. */
export async function setOwnerAndMode(fd: number, plan: CopyPlan): Promise<void> {
  await fchownAsync(fd, plan.uid, plan.gid);
  await fchmodAsync(fd, plan.mode);
}

/** Removes a temporary entry after a failure; a failure to do so is logged, the original error stands. */
export async function removeTemporary(parent: number, name: string, log: Logger): Promise<void> {
  await unlinkAt(parent, name).catch((error: unknown) => {
    if (!hasErrno(error, "ENOENT"))
      log.warn({ err: error, name }, "cannot remove a temporary CopyFile entry");
  });
}

const openDirectory = (parent: number, name: string) =>
  openBeneath(parent, name, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW, {
    noSymlinks: true,
  });

/** Makes `name` a directory: one already there is kept, a file or symlink in the way replaced (as Kata). */
async function directoryAt(parent: number, name: string, mode: number): Promise<number> {
  await mkdirAt(parent, name, mode & 0o777).catch((error: unknown) => {
    if (!hasErrno(error, "EEXIST")) throw error;
  });
  try {
    return await openDirectory(parent, name);
  } catch (error) {
    if (!hasErrno(error, "ENOTDIR", "ELOOP")) throw error;
  }
  await unlinkAt(parent, name);
  await mkdirAt(parent, name, mode & 0o777);
  return openDirectory(parent, name);
}

/** CopyFile of a directory (S_IFDIR): made or kept, then given the request's owner and mode. */
export async function copyDirectory(rootFd: number, plan: CopyPlan): Promise<void> {
  await withFd(openParent(rootFd, plan.parents, plan.dirMode), (parent) =>
    withFd(directoryAt(parent, plan.name, plan.mode), (dir) => setOwnerAndMode(dir, plan)),
  );
}

/**
 * CopyFile of a symlink (S_IFLNK; `data` is the target, which may point anywhere: it is only ever replaced,
 * and CopyFile never resolves through it to a place outside the shared directory). Made under a temporary
 * name, given its owner, then renamed over the target in one step.
 */
export async function copySymlink(rootFd: number, plan: CopyPlan, log: Logger): Promise<void> {
  await withFd(openParent(rootFd, plan.parents, plan.dirMode), async (parent) => {
    const temporary = temporaryName();
    await symlinkAt(plan.target, parent, temporary);
    try {
      await lchownAt(parent, temporary, plan.uid, plan.gid);
      await renameAt(parent, temporary, plan.name);
    } catch (error) {
      await removeTemporary(parent, temporary, log);
      throw error;
    }
  });
}
