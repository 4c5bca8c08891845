import { codeName } from "../protocol/ttrpc/code.js";

/** Exit status of run and exec when berthctl failed before the container's process ran (as docker). */
export const EXIT_NOT_RUN = 125;

/** A failure berthctl reports as one line, `berthctl: <message>`, and exits with `exitCode`. */
export class CtlError extends Error {
  override name = "CtlError";
  readonly exitCode: number;

  constructor(message: string, exitCode = 1, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = exitCode;
  }
}

/** Bad usage (a missing or unknown command, option or argument); the message says where to look. */
export class UsageError extends CtlError {
  override name = "UsageError";
}

/** An RPC the agent answered with an error status. */
export class RpcError extends CtlError {
  override name = "RpcError";
  readonly code: number;
  readonly method: string;

  constructor(method: string, code: number, message: string) {
    super(`${method}: ${codeName(code)}: ${message}`);
    this.code = code;
    this.method = method;
  }
}

/** The one line berthctl prints for `error`, without the "berthctl: " prefix. */
export function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.trim().replace(/\s*\n\s*/g, "; ");
}

/** `error` as a CtlError that exits with `exitCode`. */
export function withExitCode(error: unknown, exitCode: number): CtlError {
  return new CtlError(describeError(error), exitCode, { cause: error });
}
