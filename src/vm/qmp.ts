import { connect, type Socket } from "node:net";
import { AgentError, Code } from "../errors.js";

const MAX_LINE = 1 << 20;

export interface QmpReply {
  return?: unknown;
  error?: { class: string; desc: string };
}

/**
 * One QMP command on a connection of its own: QEMU serves one QMP client at a time, so nothing here holds
 * the socket longer than a command (outside tools hot-plug through the same socket). Reads the greeting,
 * negotiates capabilities, sends the command and returns its reply; events that come between are skipped.
 * With `untilClosed`, it returns only once QEMU has closed the connection too (after `quit`: QEMU is
 * exiting); the timeout passing first is a failure, not a close.
 */
export async function qmpCommand(
  socketPath: string,
  command: string,
  args?: Record<string, unknown>,
  options: { timeoutMs?: number; untilClosed?: boolean } = {},
): Promise<unknown> {
  const socket = connect(socketPath);
  const lines = lineReader(socket);
  const timeoutMs = options.timeoutMs ?? 10_000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    socket.destroy(new Error(`no answer in ${timeoutMs} ms`));
  }, timeoutMs);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const greeting = await lines.next();
    if (!("QMP" in greeting)) throw new Error(`not a QMP greeting: ${JSON.stringify(greeting)}`);
    const send = async (execute: string, arguments_?: Record<string, unknown>) => {
      socket.write(`${JSON.stringify(arguments_ ? { execute, arguments: arguments_ } : { execute })}\n`);
      for (;;) {
        const message = (await lines.next()) as QmpReply & { event?: string };
        if (message.event !== undefined) continue;
        if (message.error) {
          throw new AgentError(
            Code.FAILED_PRECONDITION,
            `QMP ${execute}: ${message.error.class}: ${message.error.desc}`,
          );
        }
        return message.return;
      }
    };
    await send("qmp_capabilities");
    const result = await send(command, args);
    if (options.untilClosed) {
      await lines.closed;
      if (timedOut) throw new Error(`QEMU did not close the connection in ${timeoutMs} ms`);
    } else socket.end();
    return result;
  } catch (error) {
    socket.destroy();
    if (error instanceof AgentError) throw error;
    throw new AgentError(Code.UNAVAILABLE, `QMP at ${socketPath}: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
}

/** JSON messages of a QMP stream, one a line; a line past MAX_LINE or bad JSON ends the stream. */
function lineReader(socket: Socket) {
  let buffer = "";
  const queue: Record<string, unknown>[] = [];
  let waiting: { resolve: (m: Record<string, unknown>) => void; reject: (e: Error) => void } | undefined;
  let failure: Error | undefined;
  const fail = (error: Error) => {
    failure ??= error;
    waiting?.reject(failure);
    waiting = undefined;
  };
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    buffer += chunk;
    if (buffer.length > MAX_LINE) return fail(new Error("a QMP message is too long"));
    for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (!line) continue;
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return fail(new Error(`not JSON: ${line.slice(0, 200)}`));
      }
      if (waiting) {
        waiting.resolve(message);
        waiting = undefined;
      } else queue.push(message);
    }
  });
  socket.on("error", (error: Error) => fail(error));
  socket.on("close", () => fail(new Error("QEMU closed the QMP connection")));
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  return {
    /** Resolves once the connection is closed, whoever closed it. */
    closed,
    next(): Promise<Record<string, unknown>> {
      const queued = queue.shift();
      if (queued) return Promise.resolve(queued);
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => {
        waiting = { resolve, reject };
      });
    },
  };
}
