import { AgentError, Code } from "../errors.js";
import type { RunOptions } from "../sys/exec.js";
import { readKernelFile } from "../sys/read-kernel-file.js";
import { closeQuietly } from "./close-quietly.js";
import { ConsoleSocket } from "./console-socket.js";
import { ProcessIo, type ProcessIoOptions } from "./process-io.js";
import { ProcessStdio } from "./stdio.js";

/**
 * How long the pty master may take to arrive once runc has returned: runc sends it before it exits, so
 * by then it is in the socket, or never comes.
 */
const CONSOLE_AFTER_RUNC_MS = 5000;
let consoleSeq = 0;

/** Where and how to make the stdio; the ProcessIoOptions (the reply budget) go to the ProcessIo. */
export interface LaunchOptions extends ProcessIoOptions {
  /** Where console sockets are made (the run dir: only root can reach it). */
  socketDir: string;
  /** Capacity of stdout and stderr pipes (agent.container_pipe_size; 0 keeps the kernel's). */
  outputPipeSize: number;
}

type Start = (stdio: { fds: RunOptions["stdio"]; consoleSocket: string | undefined }) => Promise<void>;

/**
 * Starts a process through runc with stdio berth holds: three pipes, or, for a terminal, a console socket
 * on which runc sends the pty master. `start` runs runc with the console socket path or the child's fds.
 * When runc fails, the call fails with runc's reason; on any failure every fd and the socket are gone
 * again. Returns the host's side of the stdio.
 */
export function launchWithStdio(terminal: boolean, options: LaunchOptions, start: Start): Promise<ProcessIo> {
  return terminal
    ? launchWithPty(options.socketDir, options, start)
    : launchWithPipes(options.outputPipeSize, options, start);
}

async function launchWithPipes(
  outputPipeSize: number,
  io: ProcessIoOptions,
  start: Start,
): Promise<ProcessIo> {
  const stdio = ProcessStdio.pipes(outputPipeSize);
  try {
    try {
      await start({ fds: stdio.childFds, consoleSocket: undefined });
    } finally {
      stdio.closeChildEnds();
    }
    return stdio.open(io);
  } catch (error) {
    stdio.close();
    throw error;
  }
}

/**
 * runc and the console wait run together and are awaited together, so neither can fail unobserved. The
 * wait has no clock of its own while runc runs (runc's own timeout bounds it, however long hooks take):
 * runc failing ends it at once, and runc succeeding gives the master CONSOLE_AFTER_RUNC_MS to arrive.
 */
async function launchWithPty(socketDir: string, io: ProcessIoOptions, start: Start): Promise<ProcessIo> {
  const socket = new ConsoleSocket(`${socketDir}/.console-${process.pid}-${++consoleSeq}.sock`);
  const wait = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const running = (async () => start({ fds: undefined, consoleSocket: socket.path }))();
  const [ran, received] = await Promise.allSettled([
    running.then(
      () => {
        timer = setTimeout(
          () =>
            wait.abort(
              new AgentError(Code.DEADLINE_EXCEEDED, `runc returned ${CONSOLE_AFTER_RUNC_MS} ms ago`),
            ),
          CONSOLE_AFTER_RUNC_MS,
        );
      },
      (error: unknown) => {
        wait.abort(new AgentError(Code.CANCELLED, "runc failed"));
        throw error;
      },
    ),
    socket.receive(wait.signal),
  ]);
  clearTimeout(timer);
  if (ran.status === "rejected") {
    if (received.status === "fulfilled") closeQuietly(received.value);
    throw ran.reason;
  }
  if (received.status === "rejected") {
    throw new AgentError(Code.INTERNAL, `no pty master from runc on ${socket.path}`, {
      cause: received.reason,
    });
  }
  try {
    return new ProcessIo({ pty: received.value }, io);
  } catch (error) {
    closeQuietly(received.value);
    throw AgentError.from(error);
  }
}

/** The pid runc wrote. */
export async function readPidFile(path: string): Promise<number> {
  const text = await readKernelFile(path);
  const pid = Number.parseInt(text, 10);
  if (!Number.isSafeInteger(pid) || pid <= 0) {
    throw new AgentError(Code.INTERNAL, `runc wrote ${JSON.stringify(text)} to ${path}, not a pid`);
  }
  return pid;
}
