import { constants } from "node:os";
import type { AgentClient } from "./agent-client.js";
import type { CtlIo } from "./ctl-io.js";
import { type TerminalSize, takeTerminal, terminalSize } from "./local-terminal.js";
import type { SignalRelay } from "./signal-relay.js";
import { type ProcessRef, pumpInput, pumpOutput } from "./stdio-pumps.js";

export interface AttachOptions {
  /** The process has a terminal: its output comes on stdout alone, and the local terminal goes raw. */
  tty: boolean;
  /** Pass stdin to the process (-i); without it a process without a terminal reads EOF at once. */
  interactive: boolean;
}

/** Ctrl-C number three kills the process: one that ignores SIGINT cannot hold berthctl forever. */
const INTERRUPTS_BEFORE_KILL = 3;

/**
 * Streams a started process's stdio until its output ends (stdout and stderr concurrently, each to its
 * own local stream; stdin with -i), then waits for it and returns its exit status (128 + signal when a
 * signal ended it). SIGINT, SIGTERM and SIGHUP are passed on to the process.
 */
export async function attach(
  client: AgentClient,
  ref: ProcessRef,
  options: AttachOptions,
  io: CtlIo,
  relay: SignalRelay,
): Promise<number> {
  let interrupts = 0;
  relay.handler = (signal) => {
    const kill = signal === "SIGINT" && ++interrupts >= INTERRUPTS_BEFORE_KILL;
    const number = kill ? constants.signals.SIGKILL : constants.signals[signal];
    client.call("signalProcess", { ...ref, signal: number }).catch(() => {});
  };
  const resize = (size: TerminalSize) => {
    client.call("ttyWinResize", { ...ref, row: size.rows, column: size.columns }).catch(() => {});
  };
  const terminal = options.tty ? takeTerminal(io, options.interactive, resize) : undefined;
  const input = options.interactive ? pumpInput(client, ref, io.stdin) : undefined;
  try {
    const size = terminalSize(io);
    if (options.tty && size) resize(size);
    if (!options.interactive && !options.tty) await client.call("closeStdin", ref).catch(() => {});
    await Promise.all([
      pumpOutput(client, "readStdout", ref, io.stdout),
      ...(options.tty ? [] : [pumpOutput(client, "readStderr", ref, io.stderr)]),
    ]);
    const { status } = await client.call("waitProcess", ref, {});
    return status;
  } finally {
    terminal?.restore();
    input?.stop();
  }
}
