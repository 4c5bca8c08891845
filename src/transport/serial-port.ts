import { closeSync, constants, openSync, readSync, writevSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { AgentError, Code } from "../errors.js";
import { type FdPoll, native } from "../sys/native.js";

/** Kata 1.x looked for its port 200 times, 50 ms apart: the port shows once virtio_console has probed. */
const FIND_ATTEMPTS = 200;
const FIND_INTERVAL_MS = 50;
/** How often a port whose host end is away is looked at again. */
const PROBE_INTERVAL_MS = 100;
const READ_BYTES = 64 << 10;
/** Reads one readable turn takes before it lets the loop run other work. */
const READS_PER_TURN = 16;
/** Bytes waiting for a host that does not read: far past what the session's credit lets it queue. */
const MAX_QUEUED = 32 << 20;
const IOV_MAX = 1024;

/** The device of the virtio-serial port named `name` (`/sys/class/virtio-ports/vport0p1/name`). */
export async function findVirtioPort(
  name: string,
  options: { sysfs?: string; dev?: string; attempts?: number; signal?: AbortSignal } = {},
): Promise<string> {
  const dir = join(options.sysfs ?? "/sys", "class/virtio-ports");
  const attempts = options.attempts ?? FIND_ATTEMPTS;
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    const ports = await readdir(dir).catch(() => [] as string[]);
    for (const port of ports) {
      const named = await readFile(join(dir, port, "name"), "utf8").catch(() => "");
      if (named.trim() === name) return join(options.dev ?? "/dev", port);
    }
    if (attempt >= attempts) {
      const seen = ports.length > 0 ? `ports there: ${ports.join(", ")}` : `${dir} has no ports`;
      throw new AgentError(Code.NOT_FOUND, `no virtio-serial port named ${JSON.stringify(name)} (${seen})`);
    }
    await new Promise((resolve) => setTimeout(resolve, FIND_INTERVAL_MS));
  }
}

export interface SerialPortEvents {
  /** The host end is there (first seen, or back). */
  up(): void;
  down(): void;
  data(chunk: Buffer): void;
  log(level: "debug" | "warn", message: string, fields: Record<string, unknown>): void;
}

/**
 * The guest's end of a virtio-serial port, non-blocking, read and written on Node's loop only when a poll
 * says so. A read of 0 bytes means the host end is away (virtio_console answers EOF then, at once, every
 * time): polling stops, and the port is looked at again every PROBE_INTERVAL_MS until a read would block
 * or brings bytes, which means the host is back. What was queued for a host that went away is dropped: the
 * next one would not know what to do with it.
 */
export class SerialPort {
  readonly #fd: number;
  readonly #events: SerialPortEvents;
  readonly #poll: FdPoll;
  #queue: Buffer[] = [];
  #queued = 0;
  #up = false;
  #writable = true;
  #closed = false;
  #probe: NodeJS.Timeout | undefined;
  /** Told when nothing is left to write: the queue went out, was dropped, or the port closed. */
  readonly #drainWaiters = new Set<() => void>();

  constructor(path: string, events: SerialPortEvents) {
    const { O_RDWR, O_NONBLOCK, O_NOCTTY } = constants;
    this.#fd = openSync(path, O_RDWR | O_NONBLOCK | O_NOCTTY);
    this.#events = events;
    this.#poll = native().pollFd(this.#fd, 0, (error) => this.#onReady(error));
  }

  /** Looks at the port for the first time: events from here on. */
  start(): void {
    this.#readNow();
  }

  write(chunks: readonly Buffer[]): void {
    if (!this.#up || this.#closed) return;
    for (const chunk of chunks) {
      this.#queue.push(chunk);
      this.#queued += chunk.length;
    }
    if (this.#queued > MAX_QUEUED) {
      this.#events.log("warn", "the host has not read the serial port for too long; starting over", {
        queued: this.#queued,
      });
      this.#goDown();
      this.#scheduleProbe();
      return;
    }
    if (this.#writable) this.#flush();
  }

  /** Resolves once nothing waits to be written (or the host is away), or after `ms`. */
  drained(ms: number): Promise<void> {
    if (this.#queued === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#drainWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#drainWaiters.add(done);
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#probe);
    this.#poll.stop();
    this.#dropQueue();
    try {
      closeSync(this.#fd);
    } catch {}
  }

  #onReady(error: Error | undefined) {
    if (this.#closed) return;
    if (error) {
      this.#events.log("warn", "polling the serial port failed", { error: error.message });
      this.#goDown();
      this.#scheduleProbe();
      return;
    }
    if (!this.#writable) this.#flush();
    if (!this.#closed && this.#up) this.#readNow();
  }

  /** Reads what the port holds; 0 bytes puts it down, EAGAIN (nothing now, host there) up. */
  #readNow() {
    for (let reads = 0; reads < READS_PER_TURN && !this.#closed; reads++) {
      const buf = Buffer.allocUnsafe(READ_BYTES);
      let got: number;
      try {
        got = readSync(this.#fd, buf, 0, READ_BYTES, null);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EAGAIN") {
          this.#goUp();
          return;
        }
        this.#events.log("warn", "reading the serial port failed", { error: (error as Error).message });
        got = 0;
      }
      if (got === 0) {
        this.#goDown();
        this.#scheduleProbe();
        return;
      }
      this.#goUp();
      this.#events.data(buf.subarray(0, got));
    }
  }

  #goUp() {
    if (this.#up) return;
    this.#up = true;
    this.#setEvents();
    this.#events.up();
  }

  #goDown() {
    this.#dropQueue();
    this.#writable = true;
    if (!this.#up) return;
    this.#up = false;
    this.#setEvents();
    this.#events.down();
  }

  #scheduleProbe() {
    if (this.#closed || this.#probe) return;
    this.#probe = setTimeout(() => {
      this.#probe = undefined;
      if (!this.#closed) this.#readNow();
    }, PROBE_INTERVAL_MS);
    this.#probe.unref();
  }

  #flush() {
    while (this.#queue.length > 0 && this.#up) {
      let written: number;
      try {
        written = writevSync(this.#fd, this.#queue.slice(0, IOV_MAX));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EAGAIN") {
          this.#writable = false;
          this.#setEvents();
          return;
        }
        this.#events.log("warn", "writing the serial port failed", { error: (error as Error).message });
        this.#goDown();
        this.#scheduleProbe();
        return;
      }
      this.#consume(written);
    }
    if (!this.#writable) {
      this.#writable = true;
      this.#setEvents();
    }
    if (this.#queued === 0) this.#wakeDrainWaiters();
  }

  #dropQueue() {
    this.#queue = [];
    this.#queued = 0;
    this.#wakeDrainWaiters();
  }

  #wakeDrainWaiters() {
    for (const done of [...this.#drainWaiters]) done();
  }

  #consume(bytes: number) {
    this.#queued -= bytes;
    let left = bytes;
    let drop = 0;
    while (left > 0) {
      const head = this.#queue[drop] as Buffer;
      if (head.length > left) {
        this.#queue[drop] = head.subarray(left);
        break;
      }
      left -= head.length;
      drop++;
    }
    this.#queue.splice(0, drop);
  }

  #setEvents() {
    if (this.#closed) return;
    const { POLL_READABLE, POLL_WRITABLE } = native().constants;
    this.#poll.setEvents(this.#up ? POLL_READABLE | (this.#writable ? 0 : POLL_WRITABLE) : 0);
  }
}
