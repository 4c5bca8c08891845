import type { CtlIo } from "./ctl-io.js";

export interface TerminalSize {
  rows: number;
  columns: number;
}

/** The local terminal's size, from stdout (or stderr) when either is a terminal. */
export function terminalSize(io: CtlIo): TerminalSize | undefined {
  for (const stream of [io.stdout, io.stderr]) {
    if (stream.isTTY && stream.rows && stream.columns) return { rows: stream.rows, columns: stream.columns };
  }
  return undefined;
}

/**
 * The local terminal for a tty session: raw input when `raw` (keys, Ctrl-C included, go to the
 * container's terminal), and size changes reported to `onResize`. `restore` undoes both; it also runs
 * if berthctl exits any other way.
 */
export function takeTerminal(
  io: CtlIo,
  raw: boolean,
  onResize: (size: TerminalSize) => void,
): { restore(): void } {
  const { stdin } = io;
  const rawMode = raw && stdin.isTTY === true && typeof stdin.setRawMode === "function";
  if (rawMode) stdin.setRawMode?.(true);
  const resizing = [io.stdout, io.stderr].find((s) => s.isTTY);
  const resized = () => {
    const size = terminalSize(io);
    if (size) onResize(size);
  };
  resizing?.on("resize", resized);
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    resizing?.off("resize", resized);
    if (rawMode) stdin.setRawMode?.(false);
    process.off("exit", restore);
  };
  process.on("exit", restore);
  return { restore };
}
