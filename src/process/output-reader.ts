import { Socket } from "node:net";
import { ReadStream } from "node:tty";
import { native } from "../sys/native.js";

/** How long reads keep draining after the process has exited before they report EOF (Kata: 500 ms). */
export const DRAIN_AFTER_EXIT_MS = 500;

/**
 * The host's side of a process's stdout, stderr or pty, read on demand: nothing is pulled from the kernel
 * until a read asks (output waits in the pipe, and a full pipe holds the writer back), and at most one
 * chunk is kept here between reads. A read returns what is there, up to `max` bytes, or waits for data;
 * empty means EOF. Once the process has exited, a read that finds nothing waits at most until the drain
 * window closes and the kernel holds nothing more: a background child that keeps the pipe open cannot hang
 * the caller, and the last lines of a fast-exiting process are never lost.
 */
export class OutputReader {
  readonly #fd: number;
  readonly #stream: Socket;
  #chunk: Buffer | undefined;
  #ended = false;
  #exitedAt: number | undefined;
  #wake: (() => void)[] = [];

  constructor(fd: number, terminal: boolean) {
    this.#fd = fd;
    this.#stream = terminal ? new ReadStream(fd) : new Socket({ fd, readable: true, writable: false });
    this.#stream.pause();
    this.#stream.on("data", (data: Buffer) => {
      this.#stream.pause();
      this.#chunk = this.#chunk ? Buffer.concat([this.#chunk, data]) : data;
      this.#notify();
    });
    // A pty master reads EIO once the last slave fd closes: that is its EOF.
    const end = () => {
      this.#ended = true;
      this.#notify();
    };
    this.#stream.on("end", end).on("close", end).on("error", end);
  }

  /** The process has exited: from now on, reads wait at most DRAIN_AFTER_EXIT_MS for more output. */
  processExited(): void {
    this.#exitedAt ??= Date.now();
    this.#notify();
  }

  async read(max: number, signal?: AbortSignal): Promise<Buffer> {
    for (;;) {
      signal?.throwIfAborted();
      const chunk = this.#chunk;
      if (chunk && chunk.length > 0) {
        const out = chunk.subarray(0, max);
        this.#chunk = chunk.length > max ? chunk.subarray(max) : undefined;
        return out;
      }
      if (this.#ended) return Buffer.alloc(0);
      if (this.#exitedAt !== undefined && this.#drained()) return Buffer.alloc(0);
      await this.#waitForChange(signal);
    }
  }

  /** Past the drain window, with nothing left in the kernel buffer. */
  #drained(): boolean {
    if (Date.now() < (this.#exitedAt ?? 0) + DRAIN_AFTER_EXIT_MS) return false;
    try {
      return native().readableBytes(this.#fd) === 0;
    } catch {
      return true;
    }
  }

  #waitForChange(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      this.#wake.push(done);
      signal?.addEventListener("abort", done, { once: true });
      if (this.#exitedAt !== undefined) {
        timer = setTimeout(done, Math.max(10, this.#exitedAt + DRAIN_AFTER_EXIT_MS - Date.now()));
      }
      this.#stream.resume();
    });
  }

  #notify() {
    const wake = this.#wake;
    this.#wake = [];
    for (const w of wake) w();
  }

  /** Ends pending reads with EOF and closes the fd. */
  close(): void {
    this.#ended = true;
    this.#stream.destroy();
    this.#notify();
  }
}
