import { type BigIntStats, constants, fstat } from "node:fs";
import { opendir, readlink } from "node:fs/promises";
import { promisify } from "node:util";
import { AgentError, Code } from "../errors.js";
import { throwIfAborted } from "../sys/abort.js";
import { closeFd, openBeneath } from "../sys/beneath.js";
import { hasErrno } from "../sys/errno.js";
import { native } from "../sys/native.js";

const fstatAsync = promisify(fstat);

/** The kinds of entry a watched copy holds; sockets, FIFOs and devices are counted but not copied. */
export type EntryKind = "dir" | "file" | "symlink";

/** One entry of a source tree, as a scan found it. */
export interface SourceEntry {
  /** Its path below the root: "" for the root itself, "a", "a/b". */
  readonly key: string;
  readonly kind: EntryKind;
  /** Permission bits, setuid, setgid and sticky included. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** What it counts against the byte limit: a file's size, a symlink's target length, 0 for a directory. */
  readonly size: number;
  /** Changes whenever a file's content may have: device, inode, size, mtime and ctime (nanoseconds). */
  readonly version: string;
  /** A symlink's target, as written. */
  readonly link?: string;
}

export interface WalkLimits {
  /** Entries of every kind, the root included (Kata: 16). */
  readonly maxEntries: number;
  /** Bytes of files and symlink targets (Kata: 1 MiB). */
  readonly maxBytes: number;
}

/** A scan's view of the source: every entry, parents before children, or the limit it passed. */
export type Walk = { kind: "tree"; entries: SourceEntry[] } | { kind: "too-big"; reason: string };

class LimitPassed extends Error {}

/** A SourceEntry's `version` of what fstat says. */
export const versionOf = (st: BigIntStats) => `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;

/** An O_PATH fd of `name` itself in `dirFd` (a symlink is not followed), or undefined if it is gone. */
async function openEntry(dirFd: number, name: string): Promise<number | undefined> {
  try {
    return await openBeneath(dirFd, name, native().constants.O_PATH | constants.O_NOFOLLOW, {
      noSymlinks: true,
    });
  } catch (error) {
    if (hasErrno(error, "ENOENT")) return undefined;
    throw error;
  }
}

const kindOf = (st: BigIntStats): EntryKind | undefined =>
  st.isDirectory() ? "dir" : st.isFile() ? "file" : st.isSymbolicLink() ? "symlink" : undefined;

/**
 * Walks one source tree, bounded by the limits: it stops at the first entry past either (a directory is
 * listed no further than that), so a huge source costs no more than a small one. Every entry is opened
 * with openat2 beneath the directory it was listed in, refusing symlinks, and described by fstat on that fd:
 * a symlink is an entry (its target read, never followed), and a directory swapped for a symlink mid-walk
 * is one too, or fails, but never leads out of the source. Within a directory, entries are described
 * before any subdirectory is listed, so a symlink (Kubernetes' `..data`) is read before the directory it
 * names: when it names a new directory, that directory was complete before it was swapped in.
 */
class SourceWalk {
  readonly #limits: WalkLimits;
  readonly #signal: AbortSignal | undefined;
  readonly #entries: SourceEntry[] = [];
  #count = 0;
  #bytes = 0;

  constructor(limits: WalkLimits, signal: AbortSignal | undefined) {
    this.#limits = limits;
    this.#signal = signal;
  }

  async run(baseFd: number, basePath: string, name: string): Promise<Walk> {
    const path = `${basePath}/${name}`;
    const fd = await openEntry(baseFd, name);
    if (fd === undefined) {
      throw new AgentError(Code.NOT_FOUND, `watchable source ${JSON.stringify(path)} does not exist`);
    }
    try {
      const root = await this.#describe(fd, path, "");
      if (root?.kind === "dir") await this.#directory(fd, path, "");
      else if (root?.kind !== "file") {
        throw new AgentError(
          Code.INVALID_ARGUMENT,
          `watchable source ${JSON.stringify(path)} is not a directory or a regular file`,
        );
      }
      return { kind: "tree", entries: this.#entries };
    } catch (error) {
      if (error instanceof LimitPassed) return { kind: "too-big", reason: error.message };
      throw error;
    } finally {
      await closeFd(fd);
    }
  }

  #counted(path: string): void {
    this.#count += 1;
    if (this.#count > this.#limits.maxEntries) {
      throw new LimitPassed(`${JSON.stringify(path)} has more than ${this.#limits.maxEntries} entries`);
    }
  }

  async #describe(fd: number, path: string, key: string): Promise<SourceEntry | undefined> {
    throwIfAborted(this.#signal);
    if (key === "") this.#counted(path);
    const st = await fstatAsync(fd, { bigint: true });
    const kind = kindOf(st);
    if (kind === undefined) return undefined;
    const link = kind === "symlink" ? await readlink(path) : undefined;
    const size = kind === "dir" ? 0 : Number(st.size);
    this.#bytes += size;
    if (this.#bytes > this.#limits.maxBytes) {
      throw new LimitPassed(`${JSON.stringify(path)} holds more than ${this.#limits.maxBytes} bytes`);
    }
    const entry: SourceEntry = {
      key,
      kind,
      mode: Number(st.mode & 0o7777n),
      uid: Number(st.uid),
      gid: Number(st.gid),
      size,
      version: versionOf(st),
      ...(link === undefined ? {} : { link }),
    };
    this.#entries.push(entry);
    return entry;
  }

  async #names(path: string): Promise<string[]> {
    const names: string[] = [];
    for await (const dirent of await opendir(path, { bufferSize: 32 })) {
      this.#counted(`${path}/${dirent.name}`);
      names.push(dirent.name);
    }
    return names.sort();
  }

  async #directory(dirFd: number, path: string, key: string): Promise<void> {
    const subdirs: { fd: number; path: string; key: string }[] = [];
    try {
      for (const name of await this.#names(path)) {
        const fd = await openEntry(dirFd, name);
        if (fd === undefined) continue;
        const child = { fd, path: `${path}/${name}`, key: key === "" ? name : `${key}/${name}` };
        let entry: SourceEntry | undefined;
        try {
          entry = await this.#describe(fd, child.path, child.key);
        } finally {
          if (entry?.kind === "dir") subdirs.push(child);
          else await closeFd(fd);
        }
      }
      for (const sub of subdirs) await this.#directory(sub.fd, sub.path, sub.key);
    } finally {
      for (const sub of subdirs) await closeFd(sub.fd);
    }
  }
}

/**
 * The tree at `name` in the directory `baseFd` (an fd of `basePath`): a directory and what is below it, or
 * a single regular file. NOT_FOUND when it is missing; `too-big` as soon as it passes a limit.
 */
export function walkSource(
  baseFd: number,
  basePath: string,
  name: string,
  limits: WalkLimits,
  signal?: AbortSignal,
): Promise<Walk> {
  return new SourceWalk(limits, signal).run(baseFd, basePath, name);
}
