import { Code, codeName } from "./protocol/ttrpc/code.js";
import { TtrpcError } from "./protocol/ttrpc/status.js";
import { codeFromErrno } from "./sys/errno.js";

export { Code, codeName };

/** berth's one error type: a status code the host sees, a message that names what failed, and a cause. */
export class AgentError extends Error {
  override name = "AgentError";
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }

  /** Normalises anything thrown into an AgentError, keeping the original as its cause. */
  static from(error: unknown): AgentError {
    if (error instanceof AgentError) return error;
    if (error instanceof TtrpcError) return new AgentError(error.code, error.message, { cause: error });
    if (error instanceof Error) {
      if (error.name === "AbortError") return new AgentError(Code.CANCELLED, error.message, { cause: error });
      const errno = (error as NodeJS.ErrnoException).code;
      if (typeof errno === "string" && /^E[A-Z0-9]+$/.test(errno)) {
        return new AgentError(codeFromErrno(errno), error.message, { cause: error });
      }
      return new AgentError(Code.INTERNAL, error.message, { cause: error });
    }
    return new AgentError(Code.INTERNAL, String(error));
  }
}
