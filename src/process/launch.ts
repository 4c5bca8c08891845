import { readFile } from "node:fs/promises";
import { AgentError, Code } from "../errors.js";
import type { RunOptions } from "../sys/exec.js";
import type { ProcessIo } from "./process-io.js";
import { ProcessStdio } from "./stdio.js";

const CONSOLE_WAIT_MS = 60_000;
let consoleSeq = 0;

/**
 * Starts a process through runc with stdio berth holds: three pipes, or, for a terminal, a console socket
 * on which runc sends the pty master. `start` runs runc with the console socket path or the child's fds;
 * on failure every fd and the socket are gone again. Returns the host's side of the stdio.
 */
export async function launchWithStdio(
  terminal: boolean,
  socketDir: string,
  outputPipeSize: number,
  start: (stdio: { fds: RunOptions["stdio"]; consoleSocket: string | undefined }) => Promise<void>,
): Promise<ProcessIo> {
  const consoleSocket = terminal ? `${socketDir}/.console-${process.pid}-${++consoleSeq}.sock` : undefined;
  const tty = consoleSocket ? ProcessStdio.terminal(consoleSocket, CONSOLE_WAIT_MS) : undefined;
  const stdio = tty ? tty.io : ProcessStdio.pipes(outputPipeSize);
  try {
    try {
      await start({ fds: stdio.childFds, consoleSocket });
    } catch (error) {
      tty?.cancel();
      await tty?.received.catch(() => {});
      throw error;
    } finally {
      await stdio.closeChildEnds();
    }
    await tty?.received;
    return stdio.open();
  } catch (error) {
    await stdio.close();
    throw error;
  }
}

/** The pid runc wrote. */
export async function readPidFile(path: string): Promise<number> {
  const text = await readFile(path, "utf8");
  const pid = Number.parseInt(text, 10);
  if (!Number.isSafeInteger(pid) || pid <= 0) {
    throw new AgentError(Code.INTERNAL, `runc wrote ${JSON.stringify(text)} to ${path}, not a pid`);
  }
  return pid;
}
