import { readSync } from "node:fs";
import { AgentError } from "../errors.js";
import { BufferPool } from "../sys/buffer-pool.js";
import type { ByteBudget } from "../sys/byte-budget.js";
import { type FdPoll, native } from "../sys/native.js";
import { closeQuietly } from "./close-quietly.js";

/** How long reads keep draining after the process has exited before they report EOF (Kata: 500 ms). */
export const DRAIN_AFTER_EXIT_MS = 500;

const EMPTY = Buffer.alloc(0);

/**
 * Free bytes in front of each read's data, in an ArrayBuffer of its own: room for the reply's field
 * headers and frame header (22 bytes in ttrpc), which the protocol writes there instead of copying the data.
 */
const READ_HEADROOM = 32;

/** Reads of at least this many bytes, up to 1 MiB, go into buffers reused once their reply is written. */
const POOLED_FROM = 64 << 10;
const largeReads = new BufferPool(READ_HEADROOM + (1 << 20));

/**
 * The host's side of a process's stdout, stderr or pty, read on demand: nothing is pulled from the kernel
 * until a read asks (output waits in the pipe, and a full pipe holds the writer back). A read waits until
 * the fd is readable, takes a grant from the reply budget, then reads what the kernel holds, up to `max`
 * and the grant, straight into the reply's buffer; the grant is given back once the reply has been handed
 * on (the server then accounts for it until it is written). Empty means EOF: end of the pipe, or EIO on a
 * pty master whose last slave closed. Once the process has exited, a read that finds nothing waits at
 * most until the drain window closes: a background child that keeps the pipe open cannot hang the
 * caller, and the last lines of a fast-exiting process are never lost. The fd is non-blocking, and is
 * only ever read when a poll or FIONREAD says there is something to read. What a read returns is a view
 * whose ArrayBuffer holds nothing else: its `byteOffset` bytes in front are the caller's to write into,
 * and `recycle` gives it back once nothing uses it any more.
 */
export class OutputReader {
  readonly #fd: number;
  readonly #budget: ByteBudget;
  readonly #waiters = new Set<() => void>();
  #poll: FdPoll | undefined;
  #armed = false;
  /** The poll said readable since the last read attempt (EOF, which FIONREAD does not show, shows to a read). */
  #ready = false;
  #ended = false;
  #closed = false;
  #exited = false;
  #drainOver = false;
  #drainTimer: NodeJS.Timeout | undefined;

  /** `fd` must be non-blocking; the reader owns it. */
  constructor(fd: number, budget: ByteBudget) {
    this.#fd = fd;
    this.#budget = budget;
  }

  /** Reads waiting for output (for tests: an aborted read must not stay counted). */
  get waiting(): number {
    return this.#waiters.size;
  }

  /** The process has exited: from now on, reads wait at most DRAIN_AFTER_EXIT_MS for more output. */
  processExited(): void {
    if (this.#exited) return;
    this.#exited = true;
    this.#drainTimer = setTimeout(() => {
      this.#drainOver = true;
      this.#wakeAll();
    }, DRAIN_AFTER_EXIT_MS);
    this.#wakeAll();
  }

  async read(max: number, signal?: AbortSignal): Promise<Buffer> {
    for (;;) {
      signal?.throwIfAborted();
      if (this.#ended) return EMPTY;
      const held = this.#kernelHolds();
      if (held > 0 || this.#ready) {
        const want = Math.max(1, Math.min(max, held));
        const grant = this.#budget.takeNow(want) ?? (await this.#budget.take(want, signal));
        const data = this.#ended ? EMPTY : this.#readUpTo(grant.bytes);
        if (data === undefined || data.length === 0) {
          grant.release();
          if (data === undefined) continue;
          return EMPTY;
        }
        setImmediate(grant.release);
        return data;
      }
      if (this.#drainOver) return EMPTY;
      await this.#readable(signal);
    }
  }

  /** Gives back the buffer of what a read returned, once nothing uses it: a later read may reuse it. */
  recycle(data: Uint8Array): void {
    largeReads.give(data);
  }

  /** Bytes the kernel holds for us now (FIONREAD); a failure counts as EOF. */
  #kernelHolds(): number {
    try {
      return native().readableBytes(this.#fd);
    } catch {
      this.#ended = true;
      return 0;
    }
  }

  /** Up to `bytes`; undefined when there was nothing after all (EAGAIN); empty at EOF (0, or EIO on a pty). */
  #readUpTo(bytes: number): Buffer | undefined {
    // What the kernel holds after this read only a new poll can tell.
    this.#ready = false;
    const whole =
      bytes >= POOLED_FROM && READ_HEADROOM + bytes <= largeReads.size
        ? largeReads.take()
        : Buffer.allocUnsafeSlow(READ_HEADROOM + bytes);
    let got: number;
    try {
      got = readSync(this.#fd, whole, READ_HEADROOM, bytes, null);
    } catch (error) {
      got = 0;
      if ((error as NodeJS.ErrnoException).code === "EAGAIN") {
        largeReads.give(whole);
        return undefined;
      }
    }
    if (got === 0) {
      largeReads.give(whole);
      this.#ended = true;
      return EMPTY;
    }
    return whole.subarray(READ_HEADROOM, READ_HEADROOM + got);
  }

  /** Resolves once the fd is readable, the reader ends, the drain window closes or `signal` aborts. */
  #readable(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      try {
        this.#arm();
      } catch (error) {
        reject(AgentError.from(error));
        return;
      }
      const done = () => {
        this.#waiters.delete(done);
        signal?.removeEventListener("abort", done);
        if (this.#waiters.size === 0) this.#disarm();
        resolve();
      };
      this.#waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  #arm() {
    if (this.#armed) return;
    const { POLL_READABLE } = native().constants;
    if (this.#poll) this.#poll.setEvents(POLL_READABLE);
    else this.#poll = native().pollFd(this.#fd, POLL_READABLE, (error) => this.#onReadable(error));
    this.#armed = true;
  }

  #disarm() {
    if (!this.#armed) return;
    this.#armed = false;
    this.#poll?.setEvents(0);
  }

  /** Polling stops until a read waits again: with nobody waiting, a readable fd must not keep calling back. */
  #onReadable(error: Error | undefined) {
    this.#disarm();
    if (error) this.#ended = true;
    else this.#ready = true;
    this.#wakeAll();
  }

  #wakeAll() {
    for (const wake of this.#waiters) wake();
  }

  /** Ends pending reads with EOF and closes the fd. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ended = true;
    clearTimeout(this.#drainTimer);
    this.#poll?.stop();
    this.#poll = undefined;
    this.#armed = false;
    closeQuietly(this.#fd);
    this.#wakeAll();
  }
}
