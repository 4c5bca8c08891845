import { constants, fchmod, fchown, fstat, read, write } from "node:fs";
import { opendir } from "node:fs/promises";
import { promisify } from "node:util";
import { lchownAt, mkdirAt, openBeneath, renameAt, symlinkAt, unlinkAt, withFd } from "../sys/beneath.js";
import { hasErrno } from "../sys/errno.js";
import { native } from "../sys/native.js";
import { type SourceEntry, versionOf } from "./walk-source.js";

/*
 * Writes into a watched copy, which a container may see (and, mounted read-write, change) while it is
 * written: every path is resolved by openat2 beneath the copy's trusted parent with no symlink allowed, and
 * every change is made relative to a directory fd, so nothing a container plants there leads a write out.
 */

const fchownAsync = promisify(fchown);
const fchmodAsync = promisify(fchmod);
const fstatAsync = promisify(fstat);
const readAsync = promisify(read);
const writeAsync = promisify(write);

const CHUNK_BYTES = 64 * 1024;
/** How deep a removal goes into a tree it did not make (what a container wrote into its copy). */
const MAX_REMOVE_DEPTH = 32;

/** The source file changed between the scan that saw it and its copy: the next scan copies it. */
export class ChangedMeanwhile extends Error {}

/** An O_PATH fd of the directory `rel` ("." for `baseFd` itself), no symlink on the way. */
export function openTargetDir(baseFd: number, rel: string): Promise<number> {
  return openBeneath(baseFd, rel, native().constants.O_PATH | constants.O_DIRECTORY, { noSymlinks: true });
}

let temporaries = 0;

/** Runs `make` with a fresh hidden name beside the target until one is free (EEXIST: another name). */
async function withTemporaryName<T>(make: (name: string) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    temporaries = (temporaries + 1) % Number.MAX_SAFE_INTEGER;
    try {
      return await make(`.berth-watch-${process.pid}-${temporaries}`);
    } catch (error) {
      if (!hasErrno(error, "EEXIST") || attempt >= 8) throw error;
    }
  }
}

/** Owner first, then mode: chown clears setuid and setgid. */
async function setOwnerAndMode(fd: number, entry: SourceEntry): Promise<void> {
  await fchownAsync(fd, entry.uid, entry.gid);
  await fchmodAsync(fd, entry.mode);
}

/** Renames `from` over `to`; a directory in the way (a type change) is removed first. */
async function replace(parentFd: number, parentPath: string, from: string, to: string): Promise<void> {
  try {
    await renameAt(parentFd, from, to);
  } catch (error) {
    if (!hasErrno(error, "EISDIR", "ENOTEMPTY", "EEXIST")) throw error;
    await removeEntry(parentFd, parentPath, to);
    await renameAt(parentFd, from, to);
  }
}

const openDirectory = (parentFd: number, name: string) =>
  openBeneath(parentFd, name, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW, {
    noSymlinks: true,
  });

/** An fd of the directory `name`, made if missing; anything else in the way is replaced by one. */
async function directoryAt(parentFd: number, parentPath: string, name: string): Promise<number> {
  await mkdirAt(parentFd, name, 0o700).catch((error: unknown) => {
    if (!hasErrno(error, "EEXIST")) throw error;
  });
  try {
    return await openDirectory(parentFd, name);
  } catch (error) {
    if (!hasErrno(error, "ENOTDIR", "ELOOP")) throw error;
  }
  await removeEntry(parentFd, parentPath, name);
  await mkdirAt(parentFd, name, 0o700);
  return openDirectory(parentFd, name);
}

/** Makes `name` a directory with the entry's owner and mode; a directory already there is kept. */
export async function makeDirectory(parentFd: number, parentPath: string, entry: SourceEntry, name: string) {
  await withFd(directoryAt(parentFd, parentPath, name), (fd) => setOwnerAndMode(fd, entry));
}

/** Copies exactly `size` bytes from `from` to `to`; fewer there means the source shrank meanwhile. */
async function copyBytes(from: number, to: number, size: number): Promise<void> {
  const buffer = Buffer.allocUnsafe(Math.max(1, Math.min(CHUNK_BYTES, size)));
  for (let done = 0; done < size; ) {
    const { bytesRead } = await readAsync(from, buffer, 0, Math.min(buffer.length, size - done), done);
    if (bytesRead === 0) throw new ChangedMeanwhile("it shrank while being copied");
    for (let written = 0; written < bytesRead; ) {
      const { bytesWritten } = await writeAsync(to, buffer, written, bytesRead - written, done + written);
      written += bytesWritten;
    }
    done += bytesRead;
  }
}

/**
 * Copies the source file `sourceRel` (beneath `sourceFd`, no symlink on the way) to `name` in one step: its
 * bytes, owner and mode go to a hidden file beside it, which is then renamed over `name`, so a reader sees
 * the old file or the new one, never part of one. Only the version the scan saw is copied (ChangedMeanwhile
 * otherwise, and nothing changes), so the bytes never pass what the scan counted.
 */
export async function copyFile(
  sourceFd: number,
  sourceRel: string,
  parentFd: number,
  parentPath: string,
  entry: SourceEntry,
  name: string,
): Promise<void> {
  const flags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
  await withFd(openBeneath(sourceFd, sourceRel, flags, { noSymlinks: true }), async (from) => {
    const before = await fstatAsync(from, { bigint: true });
    if (!before.isFile() || versionOf(before) !== entry.version) {
      throw new ChangedMeanwhile("it changed since the scan");
    }
    const temporary = await withTemporaryName(async (tmp) => {
      const create = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
      await withFd(openBeneath(parentFd, tmp, create, { mode: 0o600 }), async (to) => {
        await copyBytes(from, to, entry.size);
        await setOwnerAndMode(to, entry);
      }).catch(async (error: unknown) => {
        if (!hasErrno(error, "EEXIST")) await unlinkAt(parentFd, tmp).catch(() => {});
        throw error;
      });
      return tmp;
    });
    try {
      if (versionOf(await fstatAsync(from, { bigint: true })) !== entry.version) {
        throw new ChangedMeanwhile("it changed while being copied");
      }
      await replace(parentFd, parentPath, temporary, name);
    } catch (error) {
      await unlinkAt(parentFd, temporary).catch(() => {});
      throw error;
    }
  });
}

/** Makes `name` the entry's symlink in one step: made under a hidden name, given its owner, renamed over. */
export async function copySymlink(parentFd: number, parentPath: string, entry: SourceEntry, name: string) {
  const temporary = await withTemporaryName(async (tmp) => {
    await symlinkAt(entry.link ?? "", parentFd, tmp);
    return tmp;
  });
  try {
    await lchownAt(parentFd, temporary, entry.uid, entry.gid);
    await replace(parentFd, parentPath, temporary, name);
  } catch (error) {
    await unlinkAt(parentFd, temporary).catch(() => {});
    throw error;
  }
}

/**
 * Removes `name` from the directory `parentFd` (an fd of `parentPath`), whatever it is: a file or symlink
 * is unlinked, a directory emptied first, one level at a time, each level opened beneath the last (names
 * are listed by path, but only ever removed relative to that fd), as it is listed, so a directory of any
 * size costs no more memory than a small one. It never crosses into another filesystem (a mount on a
 * directory of the copy is refused, not emptied). Gone already is done.
 */
export async function removeEntry(parentFd: number, parentPath: string, name: string): Promise<void> {
  const { dev } = await fstatAsync(parentFd, { bigint: true });
  await removeBelow(parentFd, parentPath, name, dev, 0);
}

async function removeBelow(parentFd: number, parentPath: string, name: string, dev: bigint, depth: number) {
  try {
    await unlinkAt(parentFd, name);
    return;
  } catch (error) {
    if (hasErrno(error, "ENOENT")) return;
    if (!hasErrno(error, "EISDIR")) throw error;
  }
  const path = `${parentPath}/${name}`;
  if (depth >= MAX_REMOVE_DEPTH) throw new Error(`${JSON.stringify(path)} is nested too deep to remove`);
  await withFd(openTargetDir(parentFd, name), async (dirFd) => {
    if ((await fstatAsync(dirFd, { bigint: true })).dev !== dev) {
      throw new Error(`${JSON.stringify(path)} is on another filesystem (a mount): not removing it`);
    }
    for await (const dirent of await opendir(path, { bufferSize: 32 })) {
      await removeBelow(dirFd, path, dirent.name, dev, depth + 1);
    }
  });
  await unlinkAt(parentFd, name, { directory: true }).catch((error: unknown) => {
    if (!hasErrno(error, "ENOENT")) throw error;
  });
}
