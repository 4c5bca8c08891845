/**
 * Runs tasks one at a time per key, in the order they arrive; tasks for different keys run concurrently.
 * Nothing waits on a key nobody holds, and a key's bookkeeping goes away with its last task.
 */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let done = () => {};
    const held = new Promise<void>((resolve) => {
      done = resolve;
    });
    const tail = previous.then(() => held);
    this.#tails.set(key, tail);
    try {
      await previous;
      return await task();
    } finally {
      done();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }

  /** Keys with a task running or waiting. */
  get busyKeys(): number {
    return this.#tails.size;
  }
}
