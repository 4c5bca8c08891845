import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { AgentError, Code } from "../errors.js";

/**
 * A set of strings kept in a file, so that whoever starts after this process died can read what it held.
 * Each change rewrites the file whole (a new file renamed over the old one: never half written) and is
 * durable once its promise resolves; changes made meanwhile are written together.
 */
export class PersistedSet {
  readonly #file: string;
  readonly #items = new Set<string>();
  #written: Promise<void> = Promise.resolve();
  #pending: Promise<void> | undefined;

  constructor(file: string) {
    this.#file = file;
  }

  /** The strings a previous holder left in `file`; none when there is no file. */
  static async read(file: string): Promise<string[]> {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw AgentError.wrap(error, `cannot read ${file}`);
    }
    const items: unknown = JSON.parse(text);
    if (!Array.isArray(items) || !items.every((i) => typeof i === "string")) {
      throw new AgentError(Code.DATA_LOSS, `${file} does not hold a list of strings`);
    }
    return items;
  }

  get size(): number {
    return this.#items.size;
  }

  add(item: string): Promise<void> {
    this.#items.add(item);
    return this.#save();
  }

  delete(item: string): Promise<void> {
    if (!this.#items.delete(item)) return Promise.resolve();
    return this.#save();
  }

  /** The next write, shared by every change until it starts. */
  #save(): Promise<void> {
    this.#pending ??= this.#written
      .catch(() => {})
      .then(() => {
        this.#pending = undefined;
        return this.#write([...this.#items]);
      });
    this.#written = this.#pending;
    return this.#pending;
  }

  async #write(items: string[]): Promise<void> {
    const next = `${this.#file}.next`;
    try {
      await mkdir(dirname(this.#file), { recursive: true, mode: 0o700 });
      await writeFile(next, JSON.stringify(items), { mode: 0o600 });
      await rename(next, this.#file);
    } catch (error) {
      throw AgentError.wrap(error, `cannot record ${items.length} entries in ${this.#file}`);
    }
  }
}
