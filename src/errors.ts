/**
 * berth's one error type and its codes: the bottom of the agent, importing nothing of it. The codes are
 * gRPC's canonical status codes, which ttrpc and gRPC both carry; protocol/status.ts is the one place an
 * AgentError becomes a wire status.
 */
export enum Code {
  OK = 0,
  CANCELLED = 1,
  UNKNOWN = 2,
  INVALID_ARGUMENT = 3,
  DEADLINE_EXCEEDED = 4,
  NOT_FOUND = 5,
  ALREADY_EXISTS = 6,
  PERMISSION_DENIED = 7,
  RESOURCE_EXHAUSTED = 8,
  FAILED_PRECONDITION = 9,
  ABORTED = 10,
  OUT_OF_RANGE = 11,
  UNIMPLEMENTED = 12,
  INTERNAL = 13,
  UNAVAILABLE = 14,
  DATA_LOSS = 15,
  UNAUTHENTICATED = 16,
}

/** The name of a code ("NOT_FOUND"), or "CODE(<n>)" for a number outside the set. */
export function codeName(code: number): string {
  return Code[code] ?? `CODE(${code})`;
}

const CODE_BY_ERRNO: Readonly<Record<string, Code>> = {
  ENOENT: Code.NOT_FOUND,
  ESRCH: Code.NOT_FOUND,
  ENODEV: Code.NOT_FOUND,
  ENXIO: Code.NOT_FOUND,
  EEXIST: Code.ALREADY_EXISTS,
  EADDRINUSE: Code.ALREADY_EXISTS,
  EINVAL: Code.INVALID_ARGUMENT,
  ENAMETOOLONG: Code.INVALID_ARGUMENT,
  ENOTDIR: Code.INVALID_ARGUMENT,
  EISDIR: Code.INVALID_ARGUMENT,
  ELOOP: Code.INVALID_ARGUMENT,
  EAFNOSUPPORT: Code.INVALID_ARGUMENT,
  EPERM: Code.PERMISSION_DENIED,
  EACCES: Code.PERMISSION_DENIED,
  EROFS: Code.PERMISSION_DENIED,
  EBUSY: Code.FAILED_PRECONDITION,
  ENOTEMPTY: Code.FAILED_PRECONDITION,
  ENOSPC: Code.RESOURCE_EXHAUSTED,
  ENOMEM: Code.RESOURCE_EXHAUSTED,
  EMFILE: Code.RESOURCE_EXHAUSTED,
  ENFILE: Code.RESOURCE_EXHAUSTED,
  EAGAIN: Code.UNAVAILABLE,
  ETIMEDOUT: Code.DEADLINE_EXCEEDED,
  ETIME: Code.DEADLINE_EXCEEDED,
  ENOSYS: Code.UNIMPLEMENTED,
  EOPNOTSUPP: Code.UNIMPLEMENTED,
  ENOTSUP: Code.UNIMPLEMENTED,
};

/** The code for a Node system error code ("ENOENT" → NOT_FOUND); INTERNAL for the rest. */
export function codeFromErrno(errno: string): Code {
  return CODE_BY_ERRNO[errno] ?? Code.INTERNAL;
}

const isCode = (value: unknown): value is Code =>
  typeof value === "number" && Number.isInteger(value) && value > Code.OK && value <= Code.UNAUTHENTICATED;

/** berth's one error type: a status code the host sees, a message that names what failed, and a cause. */
export class AgentError extends Error {
  override name = "AgentError";
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }

  /**
   * Normalises anything thrown into an AgentError, keeping the original as its cause: an error that already
   * carries a status code (a protocol's own, e.g. a call's deadline) keeps it, a system error's errno
   * chooses one, an abort is CANCELLED, anything else INTERNAL.
   */
  static from(error: unknown): AgentError {
    if (error instanceof AgentError) return error;
    if (error instanceof Error) {
      const code = (error as { code?: unknown }).code;
      if (isCode(code)) return new AgentError(code, error.message, { cause: error });
      if (error.name === "AbortError") return new AgentError(Code.CANCELLED, error.message, { cause: error });
      if (typeof code === "string" && /^E[A-Z0-9]+$/.test(code)) {
        return new AgentError(codeFromErrno(code), error.message, { cause: error });
      }
      return new AgentError(Code.INTERNAL, error.message, { cause: error });
    }
    return new AgentError(Code.INTERNAL, String(error));
  }

  /** `error` with what was being done in front of its message ("cannot read X: …"), its code kept. */
  static wrap(error: unknown, context: string): AgentError {
    const reason = AgentError.from(error);
    return new AgentError(reason.code, `${context}: ${reason.message}`, { cause: error });
  }
}
