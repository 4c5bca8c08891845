import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectTtrpc, type TtrpcClient } from "./client.js";
import { createFrameDecoder, type DecodedFrame } from "./frame.js";
import { TtrpcServer, type TtrpcServerOptions } from "./server.js";

export interface Harness {
  server: TtrpcServer;
  path: string;
  client(): Promise<TtrpcClient>;
  raw(): Promise<RawConnection>;
  close(): Promise<void>;
}

/** A TtrpcServer on a unix socket in a fresh temporary directory. */
export async function startHarness(options: TtrpcServerOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), "berth-ttrpc-"));
  const path = join(dir, "ttrpc.sock");
  const server = new TtrpcServer(options);
  const listener: Server = createServer((socket) => server.serveConnection(socket));
  await new Promise<void>((resolve) => listener.listen(path, resolve));
  const clients: { close(): void }[] = [];
  return {
    server,
    path,
    async client() {
      const c = await connectTtrpc(path);
      clients.push(c);
      return c;
    },
    async raw() {
      const r = await RawConnection.open(path);
      clients.push(r);
      return r;
    },
    async close() {
      for (const c of clients) c.close();
      await server.shutdown();
      await new Promise((resolve) => listener.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A socket that writes raw bytes and collects the frames the server sends back. */
export class RawConnection {
  readonly socket: Socket;
  readonly #frames: DecodedFrame[] = [];
  #waiters: (() => void)[] = [];
  closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    const decoder = createFrameDecoder(Number.MAX_SAFE_INTEGER);
    socket.on("data", (chunk: Buffer) => {
      this.#frames.push(...decoder.push(chunk));
      this.#wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.#wake();
    });
    socket.on("error", () => {});
  }

  static open(path: string): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(path, () => resolve(new RawConnection(socket)));
      socket.once("error", reject);
    });
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Waits for `count` frames in all (or rejects after `timeoutMs`). */
  async frames(count: number, timeoutMs = 5000): Promise<DecodedFrame[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.#frames.length < count) {
      if (this.closed) throw new Error(`connection closed after ${this.#frames.length} of ${count} frames`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out with ${this.#frames.length} of ${count} frames`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.#frames.slice(0, count);
  }

  close(): void {
    this.socket.destroy();
  }

  #wake() {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}
