import { writeSync } from "node:fs";
import { AgentError, Code } from "../errors.js";
import { type FdPoll, native } from "../sys/native.js";
import { closeQuietly } from "./close-quietly.js";

/**
 * How many bytes of stdin may wait for a process that is not reading, beyond the write in progress. A write
 * is always admitted when nothing is queued (so one request of any size the wire allows goes through);
 * after that, writes are admitted while the queue stays within this. Hosts write a chunk and wait for it
 * (containerd's shim copies 32 KiB at a time; Kata's agent writes each request before answering), so this
 * is only reached when a host pipelines into a process that does not read.
 */
export const STDIN_QUEUE_LIMIT = 1 << 20;

interface QueuedWrite {
  readonly data: Uint8Array;
  written: number;
  readonly resolve: (length: number) => void;
  readonly reject: (error: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: (() => void) | undefined;
}

/**
 * The host's side of a process's stdin (a pipe) or of its pty, written without ever blocking the event
 * loop: the fd is non-blocking, each write(2) takes what the kernel accepts, and the rest waits, in order,
 * until a poll says the fd is writable again. A write resolves once the kernel has taken all of it;
 * aborting it (its caller's deadline passed, or the caller left) drops what was not yet written, so a
 * write that timed out never writes later (a retry cannot duplicate input).
 */
export class InputWriter {
  readonly #fd: number;
  readonly #limit: number;
  readonly #queue: QueuedWrite[] = [];
  #queued = 0;
  #poll: FdPoll | undefined;
  #armed = false;
  #state: "open" | "closing" | "closed" = "open";
  #failure: AgentError | undefined;
  #closeWaiters: (() => void)[] = [];

  /** `fd` must be non-blocking; the writer owns it. */
  constructor(fd: number, limit = STDIN_QUEUE_LIMIT) {
    this.#fd = fd;
    this.#limit = limit;
  }

  /** Bytes admitted and not yet taken by the kernel. */
  get queuedBytes(): number {
    return this.#queued;
  }

  /**
   * Writes all of `data`; resolves with its length once the kernel has taken it. RESOURCE_EXHAUSTED when
   * other writes are queued and this one would take the queue past the limit.
   */
  write(data: Uint8Array, signal?: AbortSignal): Promise<number> {
    if (this.#state !== "open") return Promise.reject(this.#closedError());
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#queued > 0 && this.#queued + data.length > this.#limit) {
      return Promise.reject(
        new AgentError(
          Code.RESOURCE_EXHAUSTED,
          `the process is not reading its stdin: ${this.#queued} bytes are still waiting for it, and ${data.length} more would pass the limit of ${this.#limit}`,
        ),
      );
    }
    let written = 0;
    if (this.#queue.length === 0) {
      try {
        written = this.#writeSome(data, 0);
      } catch (error) {
        this.#fail(error);
        return Promise.reject(this.#failure);
      }
      if (written === data.length) return Promise.resolve(written);
    }
    return new Promise<number>((resolve, reject) => {
      try {
        this.#arm();
      } catch (error) {
        reject(AgentError.from(error));
        return;
      }
      const onAbort = signal ? () => this.#abort(entry) : undefined;
      const entry: QueuedWrite = { data, written, resolve, reject, signal, onAbort };
      if (onAbort) signal?.addEventListener("abort", onAbort, { once: true });
      this.#queue.push(entry);
      this.#queued += data.length - written;
    });
  }

  /**
   * Closes stdin once the writes already queued are written (each stays bounded by its own deadline), so
   * the process reads them, then EOF; later writes are refused. If `signal` aborts first, this stops
   * waiting, and the close still follows the queued writes.
   */
  close(signal?: AbortSignal): Promise<void> {
    if (this.#state === "closed") return Promise.resolve();
    this.#state = "closing";
    if (this.#queue.length === 0) {
      this.#finishClose();
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        signal?.removeEventListener("abort", aborted);
        resolve();
      };
      const aborted = () => {
        this.#closeWaiters = this.#closeWaiters.filter((w) => w !== done);
        reject(signal?.reason);
      };
      this.#closeWaiters.push(done);
      signal?.addEventListener("abort", aborted, { once: true });
    });
  }

  /** Closes stdin now: queued writes fail, and what they had not written is dropped. */
  destroy(): void {
    if (this.#state === "closed") return;
    this.#state = "closing";
    this.#rejectAll(this.#closedError());
    this.#finishClose();
  }

  /** What the kernel takes of data[offset..] now: all, or up to the point where the fd is full. */
  #writeSome(data: Uint8Array, offset: number): number {
    try {
      return writeSync(this.#fd, data, offset, data.length - offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EAGAIN") return 0;
      throw error;
    }
  }

  /** The fd is writable: write the queue, in order, until it is empty or the fd is full again. */
  #flush() {
    while (this.#queue.length > 0) {
      const head = this.#queue[0] as QueuedWrite;
      let n: number;
      try {
        n = this.#writeSome(head.data, head.written);
      } catch (error) {
        this.#fail(error);
        return;
      }
      head.written += n;
      this.#queued -= n;
      if (head.written < head.data.length) return;
      this.#queue.shift();
      this.#forget(head);
      head.resolve(head.data.length);
    }
    this.#drained();
  }

  #abort(entry: QueuedWrite) {
    const i = this.#queue.indexOf(entry);
    if (i < 0) return;
    this.#queue.splice(i, 1);
    this.#queued -= entry.data.length - entry.written;
    entry.reject(entry.signal?.reason);
    if (this.#queue.length === 0) this.#drained();
  }

  /** A write failed (EPIPE: the process closed its stdin or exited): stdin is done for. */
  #fail(error: unknown) {
    const reason = error instanceof Error ? error.message : String(error);
    this.#failure ??= new AgentError(Code.UNAVAILABLE, `cannot write stdin: ${reason}`, { cause: error });
    if (this.#state === "open") this.#state = "closing";
    this.#rejectAll(this.#failure);
    this.#drained();
  }

  #rejectAll(error: AgentError) {
    const queued = this.#queue.splice(0);
    this.#queued = 0;
    for (const entry of queued) {
      this.#forget(entry);
      entry.reject(error);
    }
  }

  #forget(entry: QueuedWrite) {
    if (entry.onAbort) entry.signal?.removeEventListener("abort", entry.onAbort);
  }

  #drained() {
    this.#disarm();
    if (this.#state === "closing") this.#finishClose();
  }

  #closedError(): AgentError {
    const why = this.#failure ? `: ${this.#failure.message}` : "";
    return new AgentError(Code.FAILED_PRECONDITION, `stdin is closed${why}`);
  }

  #arm() {
    if (this.#armed) return;
    const { POLL_WRITABLE } = native().constants;
    if (this.#poll) this.#poll.setEvents(POLL_WRITABLE);
    else this.#poll = native().pollFd(this.#fd, POLL_WRITABLE, () => this.#flush());
    this.#armed = true;
  }

  #disarm() {
    if (!this.#armed) return;
    this.#armed = false;
    this.#poll?.setEvents(0);
  }

  #finishClose() {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#armed = false;
    this.#poll?.stop();
    closeQuietly(this.#fd);
    for (const done of this.#closeWaiters.splice(0)) done();
  }
}
