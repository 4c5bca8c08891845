import { AgentError, Code } from "../errors.js";

interface Entry<T> {
  refs: number;
  shared: boolean;
  value: T;
}

/**
 * Reference counts of storages by mount point. It decides when a storage must be cleaned up; the caller
 * does the cleaning. A shared entry stays (with no references) after its last release, until taken.
 */
export class StorageRefs<T> {
  readonly #entries = new Map<string, Entry<T>>();

  /** Adds a reference to the entry at `key`; false when there is none yet. */
  acquire(key: string): boolean {
    const entry = this.#entries.get(key);
    if (entry) entry.refs += 1;
    return entry !== undefined;
  }

  /** Records a storage just set up, with its first reference. */
  insert(key: string, value: T, shared: boolean): void {
    if (this.#entries.has(key))
      throw new AgentError(Code.INTERNAL, `storage ${JSON.stringify(key)} is already recorded`);
    this.#entries.set(key, { refs: 1, shared, value });
  }

  /**
   * Drops one reference. Returns the entry's value, removing the entry, when the storage must be cleaned up
   * now: its last reference went and it is not shared (or `evenShared`). NOT_FOUND when nothing holds it.
   */
  drop(key: string, evenShared = false): T | undefined {
    const entry = this.#entries.get(key);
    if (!entry || entry.refs === 0) {
      throw new AgentError(Code.NOT_FOUND, `no storage reference is held at ${JSON.stringify(key)}`);
    }
    entry.refs -= 1;
    if (entry.refs > 0 || (entry.shared && !evenShared)) return undefined;
    this.#entries.delete(key);
    return entry.value;
  }

  /** Removes the entry at `key`, whatever its count, and returns its value. */
  take(key: string): T | undefined {
    const entry = this.#entries.get(key);
    this.#entries.delete(key);
    return entry?.value;
  }

  /** Every entry, newest first (so nested mounts come before the ones they sit on). */
  entries(): { key: string; refs: number; shared: boolean; value: T }[] {
    return [...this.#entries]
      .reverse()
      .map(([key, e]) => ({ key, refs: e.refs, shared: e.shared, value: e.value }));
  }
}
