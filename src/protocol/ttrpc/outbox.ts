/**
 * Frames queued during one tick leave in a single write: under load many replies (or requests) finish
 * together, and one syscall for all of them is much cheaper than one each.
 */
export class Outbox {
  #frames: Buffer[] = [];
  readonly #write: (data: Buffer) => void;

  constructor(write: (data: Buffer) => void) {
    this.#write = write;
  }

  push(frame: Buffer): void {
    if (this.#frames.push(frame) === 1) process.nextTick(() => this.flush());
  }

  flush(): void {
    const frames = this.#frames;
    if (frames.length === 0) return;
    this.#frames = [];
    this.#write(frames.length === 1 ? (frames[0] as Buffer) : Buffer.concat(frames));
  }
}
