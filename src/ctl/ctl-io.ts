import type { Readable, Writable } from "node:stream";

/** A terminal-capable input, as process.stdin is. */
export interface CtlInput extends Readable {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
}

/** A terminal-capable output, as process.stdout and process.stderr are. */
export interface CtlOutput extends Writable {
  isTTY?: boolean;
  rows?: number;
  columns?: number;
}

/** berthctl's standard streams (process.stdin, stdout, stderr; others in tests). */
export interface CtlIo {
  stdin: CtlInput;
  stdout: CtlOutput;
  stderr: CtlOutput;
}

/**
 * Writes to `stream` in order, waiting for it to drain. Once the stream has failed (a closed pipe:
 * `berthctl run ... | head -1`), writes are dropped, so the container's output is still read to the end.
 */
export function outputSink(stream: Writable): (data: Uint8Array) => Promise<void> {
  let failed = false;
  stream.on("error", () => {
    failed = true;
  });
  return async (data) => {
    if (failed || stream.write(data)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        stream.off("drain", done);
        stream.off("error", done);
        resolve();
      };
      stream.on("drain", done);
      stream.on("error", done);
    });
  };
}
