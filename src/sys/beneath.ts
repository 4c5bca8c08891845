import { close } from "node:fs";
import { promisify } from "node:util";
import { native } from "./native.js";

/*
 * File operations the kernel confines to one directory. Paths are resolved only by openat2(2) with
 * RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS relative to a directory fd: an absolute path, a `..` that climbs
 * out, an absolute symlink, a relative one that climbs out or a /proc magic link fails (EXDEV, ELOOP)
 * instead of leaving the directory, whatever the tree looks like at that instant, so there is no window
 * between a check and its use. The other calls take one name relative to a directory fd opened that way:
 * they traverse nothing, and mkdirat, symlinkat, renameat, unlinkat and fchownat(AT_SYMLINK_NOFOLLOW)
 * never follow a symlink in that name. Contents, fstat, fchmod and fchown go through the returned fds
 * with Node's fs. No /proc/self/fd/N path is ever used: those are magic links.
 */

const closeAsync = promisify(close);

export interface OpenBeneathOptions {
  /** Permission bits for a file O_CREAT makes (openat2 refuses a mode without O_CREAT). */
  mode?: number;
  /** Refuse every symlink on the way, not only those that leave the directory. */
  noSymlinks?: boolean;
}

/** Throws unless `name` is one path component (not empty, `.` or `..`, no `/` or NUL). */
export function checkName(name: string): void {
  if (name === "" || name === "." || name === ".." || name.includes("/") || name.includes("\0")) {
    throw new Error(`${JSON.stringify(name)} is not a single file name`);
  }
}

/** Opens `path` below the directory `dirFd`, or fails if resolving it would leave that directory. */
export function openBeneath(
  dirFd: number,
  path: string,
  flags: number,
  options: OpenBeneathOptions = {},
): Promise<number> {
  const c = native().constants;
  const resolve =
    c.RESOLVE_BENEATH | c.RESOLVE_NO_MAGICLINKS | (options.noSymlinks ? c.RESOLVE_NO_SYMLINKS : 0);
  return native().openat2(dirFd, path, flags, options.mode ?? 0, resolve);
}

/** An O_PATH fd of a directory the agent trusts by its path (a configured root), to resolve beneath. */
export function openTrustedDirectory(path: string, flags: number): Promise<number> {
  const c = native().constants;
  return native().openat2(c.AT_FDCWD, path, c.O_PATH | flags, 0, 0);
}

export async function mkdirAt(dirFd: number, name: string, mode: number): Promise<void> {
  checkName(name);
  await native().mkdirat(dirFd, name, mode);
}

export async function symlinkAt(target: string, dirFd: number, name: string): Promise<void> {
  checkName(name);
  await native().symlinkat(target, dirFd, name);
}

/** Renames `from` to `to` in one directory, replacing what `to` names (a symlink there is replaced, not followed). */
export async function renameAt(dirFd: number, from: string, to: string): Promise<void> {
  checkName(from);
  checkName(to);
  await native().renameat(dirFd, from, to);
}

/** Removes a file or symlink (`directory`: an empty directory). */
export async function unlinkAt(
  dirFd: number,
  name: string,
  opts: { directory?: boolean } = {},
): Promise<void> {
  checkName(name);
  await native().unlinkat(dirFd, name, opts.directory ? native().constants.AT_REMOVEDIR : 0);
}

/** Changes the owner of `name` itself, a symlink included (fchownat AT_SYMLINK_NOFOLLOW). */
export async function lchownAt(dirFd: number, name: string, uid: number, gid: number): Promise<void> {
  checkName(name);
  await native().fchownat(dirFd, name, uid, gid, native().constants.AT_SYMLINK_NOFOLLOW);
}

export function closeFd(fd: number): Promise<void> {
  return closeAsync(fd);
}

/** Runs `use` with an fd that `open` resolves to, and closes it afterwards, also when `use` fails. */
export async function withFd<T>(open: Promise<number>, use: (fd: number) => Promise<T>): Promise<T> {
  const fd = await open;
  try {
    return await use(fd);
  } finally {
    await closeFd(fd);
  }
}
