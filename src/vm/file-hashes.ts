import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, rename, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { buildDirPrefix } from "./build-dirs.js";
import type { FileDigest } from "./image-manifest.js";

interface Known extends FileDigest {
  mtimeNs: string;
  ino: string;
  dev: string;
}

function knownFiles(text: string): Map<string, Known> {
  const parsed: unknown = JSON.parse(text);
  const files = (parsed as { files?: unknown }).files;
  if (typeof files !== "object" || files === null) return new Map();
  return new Map(
    Object.entries(files).filter(
      (e): e is [string, Known] =>
        typeof e[1] === "object" &&
        e[1] !== null &&
        typeof (e[1] as Known).sha256 === "string" &&
        typeof (e[1] as Known).size === "number",
    ),
  );
}

/**
 * SHA-256 digests of files, remembered in a small JSON index by path, size, mtime, inode and device: a file
 * none of these changed for is not read again. The index keeps only the files asked for since it was
 * loaded, written whole (a new file renamed over the old; one left by a killed build is removed with its
 * build directories).
 */
export class FileHashes {
  readonly #index: string;
  readonly #known: Map<string, Known>;
  readonly #used = new Map<string, Known>();
  #hashed = 0;

  private constructor(index: string, known: Map<string, Known>) {
    this.#index = index;
    this.#known = known;
  }

  /** The index in `file`; an empty one if it is missing or unreadable (it is only a cache). */
  static async load(file: string): Promise<FileHashes> {
    const text = await readFile(file, "utf8").catch(() => undefined);
    let known = new Map<string, Known>();
    try {
      if (text !== undefined) known = knownFiles(text);
    } catch {
      // a damaged index is rebuilt by hashing again
    }
    return new FileHashes(file, known);
  }

  /** How many files were read and hashed (not found in the index) so far. */
  get hashed(): number {
    return this.#hashed;
  }

  async digest(path: string): Promise<FileDigest> {
    const stats = await stat(path, { bigint: true });
    const identity = { mtimeNs: String(stats.mtimeNs), ino: String(stats.ino), dev: String(stats.dev) };
    const size = Number(stats.size);
    const known = this.#known.get(path);
    if (
      known &&
      known.size === size &&
      known.mtimeNs === identity.mtimeNs &&
      known.ino === identity.ino &&
      known.dev === identity.dev
    ) {
      this.#used.set(path, known);
      return { size, sha256: known.sha256 };
    }
    const hash = createHash("sha256");
    await pipeline(createReadStream(path), hash);
    this.#hashed += 1;
    const sha256 = hash.digest("hex");
    this.#used.set(path, { size, sha256, ...identity });
    return { size, sha256 };
  }

  async save(): Promise<void> {
    const temp = join(dirname(this.#index), `${buildDirPrefix()}${basename(this.#index)}`);
    await writeFile(temp, `${JSON.stringify({ files: Object.fromEntries(this.#used) })}\n`);
    await rename(temp, this.#index);
  }
}
