import { rm } from "node:fs/promises";
import { type FdPoll, native } from "../sys/native.js";
import { closeQuietly } from "./close-quietly.js";

/**
 * The unix socket runc dials for `--console-socket` to send a terminal process's pty master. It is served
 * on the event loop, never on libuv's thread pool: the listening fd is polled, one connection accepted,
 * that connection polled, and its one fd received, each step a non-blocking call. Only the first
 * connection counts; the socket is gone once `receive` settles.
 */
export class ConsoleSocket {
  readonly path: string;
  readonly #listenFd: number;

  /** Listens on `path` (synchronously, before runc is started). */
  constructor(path: string) {
    this.path = path;
    this.#listenFd = native().unixListen(Buffer.from(path), 1);
  }

  /**
   * The pty master (non-blocking), once it has come. Rejects when the peer sends anything else (EBADMSG:
   * e.g. runc died after it connected) or with the reason of `signal`, which bounds the wait. Either way
   * the listening socket, its file and the connection are closed and removed before this settles.
   */
  async receive(signal: AbortSignal): Promise<number> {
    let conn: number | undefined;
    try {
      conn = await whenReady(this.#listenFd, signal, () => native().acceptConnection(this.#listenFd));
      const connFd = conn;
      return await whenReady(connFd, signal, () => native().receiveFd(connFd));
    } finally {
      closeQuietly(this.#listenFd);
      if (conn !== undefined) closeQuietly(conn);
      await rm(this.path, { force: true });
    }
  }
}

/**
 * The first non-null answer of `attempt`, asked now and each time `fd` polls readable, or the reason of
 * `signal` when it aborts first. An error thrown by `attempt` ends the wait.
 */
function whenReady(fd: number, signal: AbortSignal, attempt: () => number | null): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let poll: FdPoll | undefined;
    const settle = (finish: () => void) => {
      poll?.stop();
      signal.removeEventListener("abort", aborted);
      finish();
    };
    const aborted = () => settle(() => reject(signal.reason));
    const tryNow = () => {
      let got: number | null;
      try {
        got = attempt();
      } catch (error) {
        settle(() => reject(error));
        return false;
      }
      if (got === null) return true;
      settle(() => resolve(got));
      return false;
    };
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener("abort", aborted, { once: true });
    if (!tryNow()) return;
    try {
      poll = native().pollFd(fd, native().constants.POLL_READABLE, () => tryNow());
    } catch (error) {
      settle(() => reject(error));
    }
  });
}
