import { AgentError, Code } from "../errors.js";
import type { Logger } from "../log.js";
import { CleanupStack } from "../sys/cleanup-stack.js";
import type { ScanOutcome, WatchedCopy } from "./watched-copy.js";

export interface CopyWatchOptions {
  readonly copy: Pick<WatchedCopy, "scan" | "remove">;
  /** The pause between the end of one scan and the start of the next. */
  readonly intervalMs: number;
  /** Puts a bind mount of the source where the copy is; pushes its undo on `undo`. */
  readonly bindSource: (undo: CleanupStack) => Promise<void>;
  readonly log: Logger;
}

/**
 * Keeps a WatchedCopy up to date: one scan, then a pause of the interval, then the next, so scans never
 * overlap and a slow one only delays the next. A scan that fails (the source missing for a while, an entry
 * that cannot be copied) is logged, once per run of failures, and the next one tries again. A source that
 * outgrows the limits is bound in the copy's place and no longer watched (as Kata). close() stops it all:
 * the timer, the running scan (aborted, then awaited), the bind mount and the copy.
 */
export class CopyWatch {
  readonly #options: CopyWatchOptions;
  readonly #abort = new AbortController();
  readonly #bound = new CleanupStack();
  #timer: NodeJS.Timeout | undefined;
  #tick: Promise<void> | undefined;
  #failing = false;
  #closed = false;

  constructor(options: CopyWatchOptions) {
    this.#options = options;
  }

  /** Whether the source is bound in the copy's place (no longer watched). */
  get bound(): boolean {
    return this.#bound.size > 0;
  }

  /** Starts scanning every interval. */
  start(): void {
    this.#schedule();
  }

  /** Binds the source in the copy's place, for good; rejects (and watches on) when the mount fails. */
  async bindInstead(reason: string): Promise<void> {
    if (this.#closed || this.bound) return;
    await this.#options.bindSource(this.#bound);
    this.#options.log.info({ reason }, "watchable storage too large to copy: bound its source instead");
  }

  #schedule(): void {
    if (this.#closed || this.bound) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#tick = this.#scanOnce().finally(() => {
        this.#tick = undefined;
        this.#schedule();
      });
    }, this.#options.intervalMs);
  }

  async #scanOnce(): Promise<void> {
    const { signal } = this.#abort;
    try {
      const outcome = await this.#options.copy.scan(signal);
      if (outcome.kind === "too-big") await this.bindInstead(outcome.reason);
      else this.#report(outcome);
    } catch (error) {
      if (!signal.aborted) this.#failed(error);
    }
  }

  #report(outcome: Extract<ScanOutcome, { kind: "copied" }>): void {
    const { changed, deferred, failures } = outcome;
    if (failures.length > 0) {
      this.#failed(new AgentError(Code.INTERNAL, failures.join("; ")));
      return;
    }
    if (this.#failing) this.#options.log.info("watchable storage scans work again");
    this.#failing = false;
    if (changed > 0 || deferred > 0)
      this.#options.log.info({ changed, deferred }, "watchable storage updated");
  }

  #failed(error: unknown): void {
    const fields = { err: error, intervalMs: this.#options.intervalMs };
    if (this.#failing) this.#options.log.debug(fields, "watchable storage scan failed again");
    else this.#options.log.warn(fields, "watchable storage scan failed; trying again each interval");
    this.#failing = true;
  }

  /**
   * Stops watching, then unmounts the bound source (if any) and removes the copy. The copy is removed only
   * once nothing is mounted on it: removing it through a bind mount would remove the source.
   */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#abort.abort(new AgentError(Code.CANCELLED, "the watchable storage is being released"));
    await this.#tick;
    await this.#bound.unwind();
    await this.#options.copy.remove();
  }
}
