import { Socket } from "node:net";
import { WriteStream } from "node:tty";
import { AgentError, Code } from "../errors.js";

/** The host's side of a process's stdin (a pipe) or of its pty. */
export class InputWriter {
  readonly #stream: Socket;
  #closed = false;
  #pending = new Set<Promise<unknown>>();

  constructor(fd: number, terminal: boolean) {
    this.#stream = terminal ? new WriteStream(fd) : new Socket({ fd, readable: false, writable: true });
    this.#stream.on("error", () => {
      this.#closed = true;
    });
  }

  /** Writes all of `data`; resolves once the kernel has taken it. */
  write(data: Uint8Array): Promise<number> {
    if (this.#closed) {
      return Promise.reject(new AgentError(Code.FAILED_PRECONDITION, "stdin is closed"));
    }
    const written = new Promise<number>((resolve, reject) => {
      this.#stream.write(data, (error) => {
        if (error)
          reject(new AgentError(Code.UNAVAILABLE, `cannot write stdin: ${error.message}`, { cause: error }));
        else resolve(data.length);
      });
    });
    this.#pending.add(written);
    const forget = () => this.#pending.delete(written);
    written.then(forget, forget);
    return written;
  }

  /**
   * Closes stdin once what was written has gone out: the process reads EOF. (Not `end()`: shutdown(2)
   * does not apply to a pipe.)
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#pending]);
    this.#stream.destroy();
  }

  destroy(): void {
    this.#closed = true;
    this.#stream.destroy();
  }
}
