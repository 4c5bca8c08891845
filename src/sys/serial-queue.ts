import { AgentError, Code } from "../errors.js";
import { untilAborted } from "./abort.js";

/**
 * Runs tasks one at a time, in the order they arrive, with at most `limit` running or waiting: one more is
 * RESOURCE_EXHAUSTED. A task whose signal aborts while it waits never runs and leaves its place at once.
 */
export class SerialQueue {
  readonly #name: string;
  readonly #limit: number;
  #tail: Promise<void> = Promise.resolve();
  #pending = 0;

  /** `name` says in a refusal what is queued ("IPv4 iptables restores"). */
  constructor(name: string, limit: number) {
    this.#name = name;
    this.#limit = limit;
  }

  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.#pending >= this.#limit) {
      throw new AgentError(
        Code.RESOURCE_EXHAUSTED,
        `${this.#pending} ${this.#name} are already running or waiting, the most there may be`,
      );
    }
    const previous = this.#tail;
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.#tail = previous.then(() => held);
    this.#pending++;
    try {
      await untilAborted(previous, signal);
      return await task();
    } finally {
      this.#pending--;
      release();
    }
  }

  /** Tasks running or waiting. */
  get pending(): number {
    return this.#pending;
  }
}
