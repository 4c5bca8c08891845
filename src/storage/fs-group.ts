import { chmod, chown, lstat, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../log.js";
import { FsGroupChangePolicy, type StorageSpec } from "./storage-spec.js";

const RW_MASK = 0o660;
const RO_MASK = 0o440;
const EXEC_MASK = 0o110;
const SETGID = 0o2000;
const KEEP_OWNER = -1;

/** Gives `path` group `gid` and the setgid bit, so what is created in it inherits the group. */
export async function setGroupAndSetgid(path: string, gid: number): Promise<void> {
  await chown(path, KEEP_OWNER, gid);
  await chmod(path, ((await stat(path)).mode & 0o7777) | SETGID);
}

/**
 * Kata's `set_ownership`: with an fsGroup, give the whole tree that group, group read/write (read only for
 * `ro` storages), group search and setgid on directories. With OnRootMismatch nothing changes when the root
 * already has the group and those bits. Symlinks are neither changed nor followed.
 */
export async function applyFsGroup(
  root: string,
  fsGroup: StorageSpec["fsGroup"],
  readOnly: boolean,
  log: Logger,
): Promise<void> {
  if (!fsGroup) return;
  const { groupId, groupChangePolicy } = fsGroup;
  if (groupChangePolicy === FsGroupChangePolicy.ON_ROOT_MISMATCH) {
    const { gid, mode } = await stat(root);
    const mask = (readOnly ? RO_MASK : RW_MASK) | EXEC_MASK;
    if (gid === groupId && (mode & mask) === mask && (mode & SETGID) !== 0) {
      log.info({ mountPoint: root, fsGroup: groupId }, "fsGroup already applied at the root; skipping");
      return;
    }
  }
  log.info({ mountPoint: root, fsGroup: groupId }, "applying fsGroup recursively");
  await changeTree(root, groupId, readOnly ? RO_MASK : RW_MASK);
}

async function changeTree(path: string, gid: number, fileMask: number): Promise<void> {
  const before = await lstat(path);
  if (before.isSymbolicLink()) return;
  let mask = fileMask;
  if (before.isDirectory()) {
    for (const name of await readdir(path)) await changeTree(join(path, name), gid, fileMask);
    mask |= EXEC_MASK | SETGID;
  }
  await chown(path, KEEP_OWNER, gid);
  // Re-read: chown clears set-id bits on files, and those must stay cleared.
  await chmod(path, ((await lstat(path)).mode & 0o7777) | mask);
}
