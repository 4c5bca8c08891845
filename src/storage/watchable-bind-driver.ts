import { realpath, stat } from "node:fs/promises";
import { AgentError, Code } from "../errors.js";
import { throwIfAborted } from "../sys/abort.js";
import { SerialQueue } from "../sys/serial-queue.js";
import { CopyWatch } from "./copy-watch.js";
import type { StorageContext, StorageDriver } from "./storage-driver.js";
import { checkedPath, watchableDirOf } from "./storage-paths.js";
import { errnoOf, mountOn } from "./storage-steps.js";
import { releaseWatchableTmpfs, withWatchableTmpfs } from "./watchable-tmpfs.js";
import { type ScanOutcome, WatchedCopy } from "./watched-copy.js";

export interface WatchableBindOptions {
  /** The pause between two scans of a source (Kata: 2 s). */
  readonly intervalMs: number;
  /** Entries a copy may hold, its root included, before the source is bound instead (Kata: 16). */
  readonly maxEntries: number;
  /** Bytes of files and symlink targets a copy may hold before the source is bound instead (Kata: 1 MiB). */
  readonly maxBytes: number;
}

/** Kata's: a scan every 2 s, at most 16 entries and 1 MiB per storage. */
export const KATA_WATCHABLE_BIND: WatchableBindOptions = {
  intervalMs: 2000,
  maxEntries: 16,
  maxBytes: 1024 * 1024,
};

/** Scans running or waiting for their turn (one per storage at most); past it one is refused, and retried. */
const MAX_WAITING_SCANS = 4096;

/** Scans at setup while the source changes under the copy, before giving up. */
const INITIAL_SCANS = 3;

/** The source, resolved, and whether it is a directory; NOT_FOUND when it is missing. */
async function resolvedSource(source: string): Promise<{ path: string; kind: "dir" | "file" }> {
  try {
    const path = await realpath(source);
    const st = await stat(path);
    if (path !== "/" && (st.isDirectory() || st.isFile()))
      return { path, kind: st.isDirectory() ? "dir" : "file" };
  } catch (error) {
    if (errnoOf(error) !== "ENOENT") throw error;
    throw new AgentError(Code.NOT_FOUND, `watchable source ${JSON.stringify(source)} does not exist`, {
      cause: error,
    });
  }
  throw new AgentError(
    Code.INVALID_ARGUMENT,
    `watchable source ${JSON.stringify(source)} is not a directory or a regular file`,
  );
}

/** Scans a few times while the source keeps changing under the copy (a host writing a file in place). */
async function initialCopy(copy: WatchedCopy, signal: AbortSignal | undefined): Promise<ScanOutcome> {
  for (let attempt = 1; ; attempt++) {
    const outcome = await copy.scan(signal);
    if (outcome.kind === "too-big" || outcome.deferred === 0 || attempt >= INITIAL_SCANS) return outcome;
  }
}

async function setup(ctx: StorageContext, options: WatchableBindOptions, turns: SerialQueue): Promise<void> {
  const { mountPoint, undo, log } = ctx;
  const { signal } = ctx.devices;
  if (ctx.containerId === undefined) {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      "watchable-bind storages are for containers, not the sandbox",
    );
  }
  const dir = watchableDirOf(mountPoint, ctx.paths);
  const source = await resolvedSource(checkedPath("watchable source", ctx.storage.source));
  const copy = new WatchedCopy({ source: source.path, target: mountPoint, limits: options, log, turns });
  const watch = new CopyWatch({
    copy,
    intervalMs: options.intervalMs,
    log,
    bindSource: async (bound) => {
      await copy.makeRoot(source.kind);
      await mountOn({ ...ctx, undo: bound }, source.path, mountPoint, "", ["bind"]);
    },
  });
  await withWatchableTmpfs(dir, log, async () => {
    undo.push(`release the watchable tmpfs on ${dir}`, () => releaseWatchableTmpfs(dir, log));
    undo.push(`stop watching ${source.path}`, () => watch.close());
    const first = await initialCopy(copy, signal);
    if (first.kind === "too-big") {
      throwIfAborted(signal);
      await watch.bindInstead(first.reason);
      return;
    }
    if (first.failures.length > 0 || first.deferred > 0) {
      const why =
        first.failures.length > 0 ? first.failures.join("; ") : "the source changed while being copied";
      throw new AgentError(
        Code.INTERNAL,
        `cannot copy watchable source ${JSON.stringify(source.path)}: ${why}`,
      );
    }
    log.info({ source: source.path, entries: first.changed }, "watchable storage copied; watching it");
    watch.start();
  });
}

/**
 * `watchable-bind` (Kata's BindWatcherHandler): a Kubernetes Secret or ConfigMap on a shared filesystem
 * without inotify. The source is copied to the mount point, in a tmpfs berth mounts on its watchable
 * directory, and the copy is brought up to date every interval (see WatchedCopy), so a container's inotify
 * sees the changes; a source past the limits is bind-mounted instead, no longer watched. Release stops the
 * watch, removes the copy (or unmounts the bind) and, with the last storage of the directory, the tmpfs.
 * The scans of one driver's storages take turns.
 */
export function createWatchableBindDriver(
  options: WatchableBindOptions = KATA_WATCHABLE_BIND,
): StorageDriver {
  const turns = new SerialQueue("watchable storage scans", MAX_WAITING_SCANS);
  return {
    names: ["watchable-bind"],
    check(storage) {
      checkedPath("watchable source", storage.source);
    },
    setup: (ctx) => setup(ctx, options, turns),
  };
}

export const watchableBindDriver = createWatchableBindDriver();
