import { constants, fstat, write } from "node:fs";
import { promisify } from "node:util";
import { AgentError, Code } from "../errors.js";
import type { Logger } from "../log.js";
import { openBeneath, renameAt, withFd } from "../sys/beneath.js";
import { hasErrno } from "../sys/errno.js";
import { removeTemporary, setOwnerAndMode, temporaryName } from "./copy-entry.js";
import type { CopyPlan } from "./copy-file-request.js";
import { openParent } from "./shared-dir.js";

const fstatAsync = promisify(fstat);
const writeAsync = promisify(write);

/** A regular file on its way in, by its path below the shared directory. */
interface Upload {
  parents: readonly string[];
  temporary: string;
  fileSize: number;
  written: number;
  /** The temporary file exists (a first chunk may fail before it makes it: then there is none to remove). */
  created: boolean;
  /** The temporary file's identity, checked on every later chunk. */
  dev: bigint;
  ino: bigint;
}

/** Uploads the host started and left; beyond this many, the oldest is dropped with its temporary file. */
const MAX_UPLOADS = 256;

async function writeAll(fd: number, data: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < data.length; ) {
    const { bytesWritten } = await writeAsync(fd, data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

const replaced = (cause?: unknown) =>
  new AgentError(Code.ABORTED, "the partial file was removed, replaced or changed by someone else", {
    cause,
  });

function started(plan: CopyPlan): Upload {
  return {
    parents: plan.parents,
    temporary: temporaryName(),
    fileSize: plan.fileSize,
    written: 0,
    created: false,
    dev: 0n,
    ino: 0n,
  };
}

function continued(plan: CopyPlan, upload: Upload | undefined): Upload {
  const where = `a chunk at offset ${plan.offset}`;
  if (!upload) {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      `${where}, but no upload of this file is in progress (its first chunk has offset 0)`,
    );
  }
  if (plan.offset !== upload.written) {
    throw new AgentError(Code.INVALID_ARGUMENT, `${where}, but ${upload.written} bytes have arrived so far`);
  }
  if (plan.fileSize !== upload.fileSize) {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      `${where} says file_size ${plan.fileSize}, but the upload began with ${upload.fileSize}`,
    );
  }
  return upload;
}

/**
 * Regular files, which arrive in chunks (the Go shim sends 1 MiB each, in order). A chunk at offset 0 starts
 * the file afresh in a new temporary file beside the target (a random hidden name, O_CREAT|O_EXCL, following
 * nothing); each later chunk must start where the previous one ended, or it is INVALID_ARGUMENT (Kata wrote
 * at any offset, so a lost chunk left a hole of zeros). Once all `file_size` bytes are in, the file gets its
 * owner and mode and is renamed over the target in one step: a partial file never shows under the final
 * name, and a symlink at the target is replaced, not followed. Callers serialise the chunks of one path.
 */
export class FileUploads {
  readonly #uploads = new Map<string, Upload>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  async write(rootFd: number, plan: CopyPlan): Promise<void> {
    const fresh = plan.offset === 0;
    const previous = this.#uploads.get(plan.relative);
    const upload = fresh ? started(plan) : continued(plan, previous);
    this.#uploads.delete(plan.relative);
    if (fresh && previous) await this.#discard(rootFd, previous);
    let complete = false;
    try {
      await withFd(openParent(rootFd, plan.parents, fresh ? plan.dirMode : undefined), async (parent) => {
        complete = await withFd(this.#open(parent, upload, fresh), (fd) =>
          this.#append(fd, parent, upload, plan, fresh),
        );
      });
    } catch (error) {
      if (upload.created) await this.#discard(rootFd, upload);
      throw error;
    }
    if (!complete) await this.#keep(rootFd, plan.relative, upload);
  }

  /**
   * A later chunk opens the partial file by name, which someone may have replaced: O_NONBLOCK so a FIFO there
   * fails (ENXIO) rather than blocking a thread-pool thread for good, O_NOCTTY so a tty cannot become the
   * agent's terminal; #append then checks it is still the same file.
   */
  async #open(parent: number, upload: Upload, fresh: boolean): Promise<number> {
    const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY } = constants;
    if (fresh) {
      const flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;
      const fd = await openBeneath(parent, upload.temporary, flags, { mode: 0o600, noSymlinks: true });
      upload.created = true;
      return fd;
    }
    const flags = O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;
    try {
      return await openBeneath(parent, upload.temporary, flags, { noSymlinks: true });
    } catch (error) {
      if (!hasErrno(error, "ENOENT", "ENXIO", "ELOOP", "EISDIR")) throw error;
      throw replaced(error);
    }
  }

  /** Writes the chunk; true once the file is complete and in place. */
  async #append(
    fd: number,
    parent: number,
    upload: Upload,
    plan: CopyPlan,
    fresh: boolean,
  ): Promise<boolean> {
    const before = await fstatAsync(fd, { bigint: true });
    if (fresh) {
      upload.dev = before.dev;
      upload.ino = before.ino;
    }
    if (before.dev !== upload.dev || before.ino !== upload.ino || before.size !== BigInt(upload.written)) {
      throw replaced();
    }
    await writeAll(fd, plan.data, plan.offset);
    upload.written += plan.data.length;
    if (upload.written < upload.fileSize) return false;
    await setOwnerAndMode(fd, plan);
    await renameAt(parent, upload.temporary, plan.name);
    return true;
  }

  /** Remembers an upload as the most recent; drops the oldest beyond MAX_UPLOADS. */
  async #keep(rootFd: number, key: string, upload: Upload): Promise<void> {
    this.#uploads.set(key, upload);
    for (const [oldest, abandoned] of this.#uploads) {
      if (this.#uploads.size <= MAX_UPLOADS) break;
      this.#uploads.delete(oldest);
      this.#log.warn({ path: oldest, written: abandoned.written }, "dropping an abandoned CopyFile upload");
      await this.#discard(rootFd, abandoned);
    }
  }

  /** Removes an upload's temporary file; never fails (a failure is logged). */
  async #discard(rootFd: number, upload: Upload): Promise<void> {
    await withFd(openParent(rootFd, upload.parents), (parent) =>
      removeTemporary(parent, upload.temporary, this.#log),
    ).catch((error: unknown) => {
      this.#log.warn({ err: error, temporary: upload.temporary }, "cannot remove a partial CopyFile upload");
    });
  }
}
