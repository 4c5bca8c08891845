import { closeSync, openSync, statfsSync } from "node:fs";
import { type MountInfo, parseMountinfo } from "./mountinfo.js";
import { native } from "./native.js";
import { readKernelFileSync } from "./read-kernel-file.js";

const PROC_SUPER_MAGIC = 0x9fa0;

/**
 * A process's mount table (/proc/<pid>/mountinfo), read and parsed again only when the kernel says it
 * changed: the kernel makes that text anew on each read, resolving every mount's path, so reading it costs
 * time that grows with the mounts (measured here: 0.3 ms to read and 0.23 ms to parse 170 mounts), where
 * asking whether it changed is one poll(2). It is read synchronously (see readKernelFileSync): a thread-pool
 * read took a round trip per 8 KiB, and the parse holds the event loop longer than the read. A file that
 * is not procfs's (a test's fake tree) cannot say, and is read at each call.
 */
export class MountTable {
  readonly #path: string;
  /** An fd of the file, kept open to be asked whether the table changed; -1 when it cannot say. */
  #watch: number | undefined;
  /** The last table read: every caller until a change shares it. */
  #current: Promise<readonly MountInfo[]> | undefined;

  constructor(path: string) {
    this.#path = path;
  }

  /** The mounts as they are now (the same array, not to be changed, while the table does not change). */
  mounts(): Promise<readonly MountInfo[]> {
    this.#watch ??= this.#openWatch();
    if (this.#current === undefined || this.#watch < 0 || native().mountsChanged(this.#watch)) {
      try {
        this.#current = Promise.resolve(parseMountinfo(readKernelFileSync(this.#path)));
      } catch (error) {
        this.#current = undefined;
        return Promise.reject(error);
      }
    }
    return this.#current;
  }

  /** Closes the watch; a later call reads at each call. */
  close(): void {
    if (this.#watch !== undefined && this.#watch >= 0) closeSync(this.#watch);
    this.#watch = -1;
  }

  /** Opened before the first read, so that a change made during it is reported at the next call. */
  #openWatch(): number {
    try {
      return statfsSync(this.#path).type === PROC_SUPER_MAGIC ? openSync(this.#path, "r") : -1;
    } catch {
      return -1;
    }
  }
}

/** One MountTable per mountinfo path, shared: the agent's own users of /proc/self/mountinfo read it once a change. */
const tables = new Map<string, MountTable>();

/** The shared MountTable of `path` (a procfs root's `self/mountinfo`, one per root: the agent has one). */
export function mountTable(path: string): MountTable {
  let table = tables.get(path);
  if (!table) {
    table = new MountTable(path);
    tables.set(path, table);
  }
  return table;
}
