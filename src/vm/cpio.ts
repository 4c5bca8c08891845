import { type FileHandle, open } from "node:fs/promises";
import { AgentError, Code } from "../errors.js";

/** Where an archive goes: each write is awaited before the next, and takes all of `data`. */
export interface CpioSink {
  write(data: Uint8Array): Promise<void>;
}

/** A sink writing to an open file, from its current position on. */
export function fileSink(handle: FileHandle): CpioSink {
  return {
    async write(data) {
      let done = 0;
      while (done < data.length) {
        const { bytesWritten } = await handle.write(data, done, data.length - done);
        done += bytesWritten;
      }
    },
  };
}

export interface NewcFields {
  ino: number;
  mode: number;
  nlink: number;
  fileSize: number;
  nameSize: number;
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const MAX_FIELD = 0xffff_ffff;
const CHUNK = 1 << 20;
const TRAILER = "TRAILER!!!";

const hex8 = (value: number) => value.toString(16).padStart(8, "0");

/**
 * The 110 bytes of a newc ("070701") header. Everything berth does not vary is fixed: uid, gid and mtime
 * 0, device numbers 0, no checksum.
 */
export function newcHeader(fields: NewcFields): Uint8Array {
  const values = [fields.ino, fields.mode, 0, 0, fields.nlink, 0, fields.fileSize, 0, 0, 0, 0];
  values.push(fields.nameSize, 0);
  for (const value of values) {
    if (!Number.isInteger(value) || value < 0 || value > MAX_FIELD) {
      throw new AgentError(Code.OUT_OF_RANGE, `a cpio header field cannot hold ${value}`);
    }
  }
  return Buffer.from(`070701${values.map(hex8).join("")}`, "latin1");
}

/**
 * Writes a newc cpio archive, entry by entry, in the order asked (a directory before what it holds, for
 * the kernel's unpacker). Inode numbers count up from 1, so the same entries give the same bytes. A file's
 * contents are streamed from its source, never held whole. Calls must not overlap.
 */
export class CpioWriter {
  readonly #sink: CpioSink;
  readonly #names = new Set<string>();
  #buffer: Buffer | undefined;
  #ino = 0;
  #offset = 0;
  #busy = false;
  #finished = false;

  constructor(sink: CpioSink) {
    this.#sink = sink;
  }

  /** Bytes written so far. */
  get size(): number {
    return this.#offset;
  }

  directory(name: string, mode = 0o755): Promise<void> {
    return this.#entry(name, S_IFDIR | (mode & 0o7777), 2, Buffer.alloc(0));
  }

  symlink(name: string, target: string): Promise<void> {
    return this.#entry(name, S_IFLNK | 0o777, 1, Buffer.from(target));
  }

  file(name: string, mode: number, content: Uint8Array): Promise<void> {
    return this.#entry(name, S_IFREG | (mode & 0o7777), 1, content);
  }

  /** A regular file whose contents are `source`'s (read once, in chunks); its size is taken when opened. */
  async fileFrom(name: string, mode: number, source: string): Promise<void> {
    await this.#exclusive(async () => {
      const handle = await open(source, "r");
      try {
        const stats = await handle.stat();
        if (!stats.isFile()) throw new AgentError(Code.INVALID_ARGUMENT, `${source} is not a regular file`);
        await this.#header(name, S_IFREG | (mode & 0o7777), 1, stats.size);
        this.#buffer ??= Buffer.alloc(CHUNK);
        const buffer = this.#buffer;
        let left = stats.size;
        while (left > 0) {
          const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, left));
          if (bytesRead === 0) {
            throw new AgentError(Code.DATA_LOSS, `${source} shrank while it was archived as ${name}`);
          }
          await this.#write(buffer.subarray(0, bytesRead));
          left -= bytesRead;
        }
        await this.#align();
      } finally {
        await handle.close();
      }
    });
  }

  /** The trailer; nothing can be added after it. */
  async finish(): Promise<void> {
    await this.#exclusive(async () => {
      await this.#writeHeader(TRAILER, 0, 1, 0, 0);
      this.#finished = true;
    });
  }

  #entry(name: string, mode: number, nlink: number, content: Uint8Array): Promise<void> {
    return this.#exclusive(async () => {
      await this.#header(name, mode, nlink, content.length);
      await this.#write(content);
      await this.#align();
    });
  }

  async #header(name: string, mode: number, nlink: number, size: number): Promise<void> {
    if (name === "" || name === TRAILER || name.startsWith("/") || name.includes("\0")) {
      throw new AgentError(Code.INVALID_ARGUMENT, `${JSON.stringify(name)} cannot name a cpio entry`);
    }
    if (this.#names.has(name)) {
      throw new AgentError(Code.ALREADY_EXISTS, `the archive has ${name} already`);
    }
    this.#names.add(name);
    this.#ino += 1;
    await this.#writeHeader(name, this.#ino, nlink, size, mode);
  }

  async #writeHeader(name: string, ino: number, nlink: number, fileSize: number, mode: number) {
    const encoded = Buffer.from(`${name}\0`);
    await this.#write(newcHeader({ ino, mode, nlink, fileSize, nameSize: encoded.length }));
    await this.#write(encoded);
    await this.#align();
  }

  #align(): Promise<void> {
    return this.#write(new Uint8Array((4 - (this.#offset % 4)) % 4));
  }

  async #write(data: Uint8Array): Promise<void> {
    if (data.length === 0) return;
    await this.#sink.write(data);
    this.#offset += data.length;
  }

  async #exclusive(work: () => Promise<void>): Promise<void> {
    if (this.#finished) throw new AgentError(Code.FAILED_PRECONDITION, "the cpio archive is finished");
    if (this.#busy) throw new AgentError(Code.FAILED_PRECONDITION, "cpio writes must not overlap");
    this.#busy = true;
    try {
      await work();
    } finally {
      this.#busy = false;
    }
  }
}
