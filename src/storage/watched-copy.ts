import { constants } from "node:fs";
import { basename, dirname, posix } from "node:path";
import { AgentError } from "../errors.js";
import type { Logger } from "../log.js";
import { throwIfAborted } from "../sys/abort.js";
import { mkdirAt, openBeneath, openTrustedDirectory, withFd } from "../sys/beneath.js";
import { hasErrno } from "../sys/errno.js";
import type { SerialQueue } from "../sys/serial-queue.js";
import {
  ChangedMeanwhile,
  copyFile,
  copySymlink,
  makeDirectory,
  openTargetDir,
  removeEntry,
} from "./copy-target.js";
import { type EntryKind, type SourceEntry, type WalkLimits, walkSource } from "./walk-source.js";

export interface WatchedCopyOptions {
  /** The source, resolved: a directory, or a regular file. */
  readonly source: string;
  /** Where the copy goes: a name in a directory only the agent writes (the watchable tmpfs). */
  readonly target: string;
  readonly limits: WalkLimits;
  readonly log: Logger;
  /**
   * Where scans of every copy given it take turns, so that a shared filesystem that stops answering holds
   * one of libuv's few threads, not one per storage.
   */
  readonly turns?: SerialQueue;
}

/** What one scan did: the entries it changed, the ones it left for the next, and what failed. */
export type ScanOutcome =
  | { kind: "copied"; changed: number; deferred: number; failures: string[] }
  | { kind: "too-big"; reason: string };

const depth = (key: string) => (key === "" ? 0 : key.split("/").length);

/** Whether `a` is `b`, or one of them lies inside the other. */
const overlaps = (a: string, b: string) => a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);

/** Where a relative symlink at `key` points inside the copy (one level, not followed further); else undefined. */
function pointsAt(key: string, link: string): string | undefined {
  if (link.startsWith("/")) return undefined;
  const resolved = posix.normalize(posix.join(posix.dirname(key), link));
  if (resolved === ".." || resolved.startsWith("../")) return undefined;
  return resolved === "." ? "" : resolved;
}

const sameOwnerAndMode = (a: SourceEntry, b: SourceEntry) =>
  a.uid === b.uid && a.gid === b.gid && a.mode === b.mode;

/** Whether the copy of `old` (undefined: none yet) must be redone to be `entry`. */
function outdated(old: SourceEntry | undefined, entry: SourceEntry): boolean {
  if (old === undefined || old.kind !== entry.kind) return true;
  if (entry.kind === "dir") return !sameOwnerAndMode(old, entry);
  if (entry.kind === "symlink")
    return old.link !== entry.link || old.uid !== entry.uid || old.gid !== entry.gid;
  return old.version !== entry.version || !sameOwnerAndMode(old, entry);
}

/**
 * A copy of a source tree (Kata's watchable storage) that each scan brings up to date: the tree is walked,
 * bounded by the limits, and only then changed, in an order that keeps every symlink of the copy pointing
 * at a complete tree: new and changed directories first (parents first), then files, each written beside
 * its place and renamed over it, then symlinks, each swapped in one rename, and last what vanished from the
 * source, deepest first, except what a symlink of the copy still points into (Kubernetes' old `..2026_…`
 * directory while `..data` names it), which waits for a later scan. An entry that fails stays as it was
 * and is tried again by the next scan. A scan asked for while one runs is that one.
 */
export class WatchedCopy {
  readonly #source: { base: string; name: string };
  readonly #target: { base: string; name: string };
  readonly #limits: WalkLimits;
  readonly #log: Logger;
  readonly #turns: SerialQueue | undefined;
  /** What the copy holds, by key, as the scan that copied each entry saw it. */
  readonly #copied = new Map<string, SourceEntry>();
  #running: Promise<ScanOutcome> | undefined;
  #scans = 0;

  constructor(options: WatchedCopyOptions) {
    this.#source = { base: dirname(options.source), name: basename(options.source) };
    this.#target = { base: dirname(options.target), name: basename(options.target) };
    this.#limits = options.limits;
    this.#log = options.log;
    this.#turns = options.turns;
  }

  /** Scans finished (walked, whatever they found), for tests and diagnostics. */
  get scans(): number {
    return this.#scans;
  }

  /** Walks the source and brings the copy up to date; rejects when the walk fails (the copy is kept). */
  scan(signal?: AbortSignal): Promise<ScanOutcome> {
    if (this.#running !== undefined) return this.#running;
    const scan = () => this.#scan(signal);
    const running = (this.#turns ? this.#turns.run(scan, signal) : scan()).finally(() => {
      this.#running = undefined;
    });
    this.#running = running;
    return running;
  }

  async #scan(signal: AbortSignal | undefined): Promise<ScanOutcome> {
    const { base, name } = this.#source;
    return withFd(openTrustedDirectory(base, constants.O_DIRECTORY), async (sourceFd) => {
      const walk = await walkSource(sourceFd, base, name, this.#limits, signal);
      this.#scans += 1;
      if (walk.kind === "too-big") return walk;
      return withFd(openTrustedDirectory(this.#target.base, constants.O_DIRECTORY), (targetFd) =>
        this.#apply(walk.entries, sourceFd, targetFd, signal),
      );
    });
  }

  async #apply(
    entries: readonly SourceEntry[],
    sourceFd: number,
    targetFd: number,
    signal: AbortSignal | undefined,
  ): Promise<ScanOutcome> {
    const outcome = { kind: "copied" as const, changed: 0, deferred: 0, failures: [] as string[] };
    const step = async (key: string, what: string, change: () => Promise<void>) => {
      throwIfAborted(signal);
      try {
        await change();
        outcome.changed += 1;
      } catch (error) {
        if (error instanceof ChangedMeanwhile) outcome.deferred += 1;
        else
          outcome.failures.push(`cannot ${what} ${JSON.stringify(key)}: ${AgentError.from(error).message}`);
        return false;
      }
      return true;
    };
    const inPlace = (
      entry: SourceEntry,
      what: string,
      change: (parentFd: number, parent: string, name: string) => Promise<void>,
    ) =>
      step(entry.key, what, () => this.#inParent(targetFd, entry.key, change)).then((done) => {
        if (done) this.#copied.set(entry.key, entry);
      });
    const stale = (kind: EntryKind) =>
      entries.filter((e) => e.kind === kind && outdated(this.#copied.get(e.key), e));

    for (const entry of stale("dir")) {
      await inPlace(entry, "make directory", (parentFd, parent, name) =>
        makeDirectory(parentFd, parent, entry, name),
      );
    }
    for (const entry of stale("file")) {
      const from = entry.key === "" ? this.#source.name : `${this.#source.name}/${entry.key}`;
      await inPlace(entry, "copy file", (parentFd, parent, name) =>
        copyFile(sourceFd, from, parentFd, parent, entry, name),
      );
    }
    for (const entry of stale("symlink")) {
      await inPlace(entry, "copy symlink", (parentFd, parent, name) =>
        copySymlink(parentFd, parent, entry, name),
      );
    }
    await this.#removeVanished(new Set(entries.map((e) => e.key)), step, targetFd);
    return outcome;
  }

  /** Removes what the source no longer has, deepest first, but nothing a kept symlink still points into. */
  async #removeVanished(
    present: ReadonlySet<string>,
    step: (key: string, what: string, change: () => Promise<void>) => Promise<boolean>,
    targetFd: number,
  ): Promise<void> {
    const pointedAt = [...this.#copied.values()]
      .filter((e) => e.kind === "symlink" && present.has(e.key))
      .flatMap((e) => pointsAt(e.key, e.link ?? "") ?? []);
    const vanished = [...this.#copied.keys()]
      .filter((key) => !present.has(key))
      .sort((a, b) => depth(b) - depth(a));
    for (const key of vanished) {
      if (pointedAt.some((p) => overlaps(p, key))) {
        this.#log.debug({ key }, "keeping a vanished entry a symlink of the copy still points into");
        continue;
      }
      const done = await step(key, "remove", () =>
        this.#inParent(targetFd, key, (parentFd, parent, name) => removeEntry(parentFd, parent, name)).catch(
          (error: unknown) => {
            // Its directory is gone, or is no directory any more (replaced along with all it held).
            if (!hasErrno(error, "ENOENT", "ENOTDIR", "ELOOP")) throw error;
          },
        ),
      );
      if (done) this.#copied.delete(key);
    }
  }

  /** Runs `change` with an fd of the directory holding the copy of `key`, that directory's path and the name. */
  #inParent<T>(
    targetFd: number,
    key: string,
    change: (parentFd: number, parentPath: string, name: string) => Promise<T>,
  ): Promise<T> {
    const rel = key === "" ? this.#target.name : `${this.#target.name}/${key}`;
    const parentRel = posix.dirname(rel);
    const parentPath = parentRel === "." ? this.#target.base : `${this.#target.base}/${parentRel}`;
    return withFd(openTargetDir(targetFd, parentRel), (parentFd) =>
      change(parentFd, parentPath, posix.basename(rel)),
    );
  }

  /** Makes the copy's root an empty directory or file, if it is not there yet (to bind the source on). */
  async makeRoot(kind: "dir" | "file"): Promise<void> {
    const { base, name } = this.#target;
    await withFd(openTrustedDirectory(base, constants.O_DIRECTORY), async (targetFd) => {
      if (kind === "dir") {
        await mkdirAt(targetFd, name, 0o755).catch((error: unknown) => {
          if (!hasErrno(error, "EEXIST")) throw error;
        });
        return;
      }
      const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW;
      await withFd(openBeneath(targetFd, name, flags, { mode: 0o644 }), async () => {});
    });
  }

  /** Removes the copy, all of it; waits for a running scan first. */
  async remove(): Promise<void> {
    await this.#running?.catch(() => {});
    await withFd(openTrustedDirectory(this.#target.base, constants.O_DIRECTORY), (targetFd) =>
      removeEntry(targetFd, this.#target.base, this.#target.name),
    );
    this.#copied.clear();
  }
}
