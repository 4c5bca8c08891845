import { AgentError } from "../errors.js";
import type { Logger } from "../log.js";

/** Events held for the next polls; Kata's channel holds as many. */
export const OOM_QUEUE_CAPACITY = 100;

interface Waiter {
  resolve(containerId: string): void;
  reject(error: AgentError): void;
}

/**
 * The sandbox's OOM events, in order: the container ids the watches report, handed to GetOOMEvent polls.
 * Each event goes to exactly one poll, the one waiting longest (Kata has a single channel receiver, so the
 * same holds there). An event with no poll waiting is queued; when the queue is full the oldest is dropped
 * and logged: a watch never waits for a poll. A poll that is cancelled leaves the line before any event
 * can reach it, so it never takes one the host will not read. Nothing here is locked; polls only wait.
 */
export class OomEvents {
  readonly #log: Logger;
  readonly #capacity: number;
  readonly #queue: string[] = [];
  /** Insertion order is arrival order. */
  readonly #waiters = new Set<Waiter>();
  #closed: AgentError | undefined;

  constructor(log: Logger, capacity = OOM_QUEUE_CAPACITY) {
    this.#log = log;
    this.#capacity = capacity;
  }

  push(containerId: string): void {
    if (this.#closed) {
      this.#log.warn({ container: containerId }, "OOM event after the sandbox was destroyed: dropped");
      return;
    }
    const [waiter] = this.#waiters;
    if (waiter) {
      this.#waiters.delete(waiter);
      waiter.resolve(containerId);
      return;
    }
    if (this.#queue.length >= this.#capacity) {
      const dropped = this.#queue.shift();
      this.#log.warn(
        { dropped, container: containerId, capacity: this.#capacity },
        "OOM event queue full (no GetOOMEvent polls): dropped the oldest event",
      );
    }
    this.#queue.push(containerId);
  }

  /** The next event: a queued one at once, else the next one to come. `signal` ends the wait. */
  next(signal?: AbortSignal): Promise<string> {
    if (this.#closed) return Promise.reject(this.#closed);
    if (signal?.aborted) return Promise.reject(AgentError.from(signal.reason));
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise<string>((resolve, reject) => {
      const onAbort = () => {
        this.#waiters.delete(waiter);
        reject(AgentError.from(signal?.reason));
      };
      const waiter: Waiter = {
        resolve: (containerId) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(containerId);
        },
        reject: (error) => {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      this.#waiters.add(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /**
   * Ends every waiting poll, and every later one, with `error`; queued events are dropped (and logged).
   */
  close(error: AgentError): void {
    if (this.#closed) return;
    this.#closed = error;
    if (this.#queue.length > 0) {
      this.#log.warn({ dropped: this.#queue.splice(0) }, "OOM events never polled before the sandbox ended");
    }
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const w of waiters) w.reject(error);
  }
}
