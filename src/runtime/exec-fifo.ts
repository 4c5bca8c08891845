import { constants, openSync } from "node:fs";
import { unlink } from "node:fs/promises";
import { Socket } from "node:net";
import { AgentError, Code } from "../errors.js";
import { throwIfAborted } from "../sys/abort.js";

const INIT_CHECK_MS = 100;

/** The file in runc's state dir a created container's init waits on until `runc start` reads it. */
export const EXEC_FIFO = "exec.fifo";

/**
 * Starts a created container as `runc start` does: opens `<stateDir>/exec.fifo` to read (non-blocking:
 * the init is already blocked opening it to write), reads until the init closes it, and removes it. No
 * FIFO: it was started already (FAILED_PRECONDITION, runc's words). Nothing read: the init died before
 * it could be started (FAILED_PRECONDITION). A FIFO no init ever opens gives no sign, so while nothing has
 * come, `initAlive` is asked every 100 ms, as runc asks after its init. The read ends with `signal` or
 * after `timeoutMs`.
 */
export async function startByExecFifo(
  stateDir: string,
  options: { signal?: AbortSignal | undefined; timeoutMs: number; initAlive: () => Promise<boolean> },
): Promise<void> {
  throwIfAborted(options.signal);
  const path = `${stateDir}/${EXEC_FIFO}`;
  let fd: number;
  try {
    // Synchronous: a FIFO opened non-blocking to read never waits.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new AgentError(Code.FAILED_PRECONDITION, "cannot start an already running container", {
        cause: error,
      });
    }
    throw AgentError.wrap(error, `cannot open ${path}`);
  }
  const fifo = new Socket({ fd, readable: true, writable: false });
  const read = await new Promise<number>((resolve, reject) => {
    let bytes = 0;
    const check = setInterval(() => {
      if (bytes > 0) return;
      options.initAlive().then(
        (alive) => {
          if (!alive && bytes === 0) finish();
        },
        (error: unknown) => finish(AgentError.wrap(error, "cannot tell whether the container's init lives")),
      );
    }, INIT_CHECK_MS);
    const timer = setTimeout(
      () => finish(new AgentError(Code.DEADLINE_EXCEEDED, `no end of ${path} after ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    const onAbort = () => finish(AgentError.from(options.signal?.reason));
    options.signal?.addEventListener("abort", onAbort, { once: true });
    function finish(error?: Error) {
      clearTimeout(timer);
      clearInterval(check);
      options.signal?.removeEventListener("abort", onAbort);
      fifo.destroy();
      if (error) reject(error);
      else resolve(bytes);
    }
    fifo.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
    });
    fifo.once("end", () => finish());
    fifo.once("error", (error) => finish(AgentError.wrap(error, `cannot read ${path}`)));
  });
  if (read === 0) {
    throw new AgentError(Code.FAILED_PRECONDITION, "container process is already dead");
  }
  await unlink(path).catch((error: unknown) => {
    throw AgentError.wrap(error, `cannot remove ${path}`);
  });
}
