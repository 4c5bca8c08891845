import { readSync } from "node:fs";
import { Socket } from "node:net";
import { ReadStream } from "node:tty";
import { native } from "../sys/native.js";

/** How long reads keep draining after the process has exited before they report EOF (Kata: 500 ms). */
export const DRAIN_AFTER_EXIT_MS = 500;

/**
 * The host's side of a process's stdout, stderr or pty, read on demand: nothing is pulled from the kernel
 * until a read asks (output waits in the pipe, and a full pipe holds the writer back), and the stream holds
 * at most its high-water mark between reads. A read waits for data, then returns up to `max` bytes: what
 * the stream holds, topped up with whatever else the kernel holds right now (the fd is non-blocking), so
 * one call can carry a whole pipeful. Empty means EOF. Once the process has exited, a read that finds
 * nothing waits at most until the drain window closes and the kernel holds nothing more: a background
 * child that keeps the pipe open cannot hang the caller, and the last lines of a fast-exiting process are
 * never lost.
 */
export class OutputReader {
  readonly #fd: number;
  readonly #stream: Socket;
  #started = false;
  #rest: Buffer | undefined;
  #ended = false;
  #exitedAt: number | undefined;
  #wake: (() => void)[] = [];

  constructor(fd: number, terminal: boolean) {
    this.#fd = fd;
    this.#stream = terminal ? new ReadStream(fd) : new Socket({ fd, readable: true, writable: false });
    this.#stream.pause();
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
    if (!this.#started) {
      this.#started = true;
      this.#stream.on("readable", () => this.#notify());
    }
    for (;;) {
      signal?.throwIfAborted();
      const data = this.#take(max);
      if (data.length > 0) return this.#topUp(data, max);
      if (this.#ended) return Buffer.alloc(0);
      if (this.#exitedAt !== undefined && this.#drained()) return Buffer.alloc(0);
      await this.#waitForChange(signal);
    }
  }

  /** Up to `max` bytes of what was left over or the stream has taken from the kernel already. */
  #take(max: number): Buffer {
    const rest = this.#rest;
    this.#rest = undefined;
    const held = (this.#stream.read() as Buffer | null) ?? undefined;
    const all = rest && held ? Buffer.concat([rest, held]) : (rest ?? held ?? Buffer.alloc(0));
    if (all.length > max) this.#rest = all.subarray(max);
    return all.subarray(0, max);
  }

  /**
   * Adds what the kernel holds now, without waiting, up to `max` bytes in all: read straight into the
   * reply's buffer, so a pipeful costs one allocation and no copy in user space.
   */
  #topUp(first: Buffer, max: number): Buffer {
    if (first.length >= max || this.#rest || this.#ended) return first;
    let available: number;
    try {
      available = Math.min(native().readableBytes(this.#fd), max - first.length);
    } catch {
      return first;
    }
    if (available <= 0) return first;
    const out = Buffer.allocUnsafe(first.length + available);
    first.copy(out);
    let got = 0;
    try {
      got = readSync(this.#fd, out, first.length, available, null);
    } catch {
      // EAGAIN: nothing after all; what we have is enough
    }
    return out.subarray(0, first.length + got);
  }

  /** Past the drain window, with nothing left here or in the kernel buffer. */
  #drained(): boolean {
    if (Date.now() < (this.#exitedAt ?? 0) + DRAIN_AFTER_EXIT_MS) return false;
    if (this.#rest || this.#stream.readableLength > 0) return false;
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
