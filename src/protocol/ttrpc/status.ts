import { codeName } from "./code.js";

/** `google.protobuf.Any`, kept opaque: ttrpc carries status details without interpreting them. */
export interface AnyMessage {
  typeUrl: string;
  value: Uint8Array;
}

/** `google.rpc.Status`: the error of a failed call. */
export interface Status {
  code: number;
  message: string;
  details: AnyMessage[];
}

/**
 * An error that travels over ttrpc as a `google.rpc.Status`.
 * Handlers throw it to choose the code; clients receive it for every failed call.
 */
export class TtrpcError extends Error {
  override name = "TtrpcError";
  readonly code: number;
  readonly details: AnyMessage[];

  constructor(code: number, message: string, options?: { details?: AnyMessage[]; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options?.details ?? [];
  }

  /** The status this error stands for on the wire. */
  toStatus(): Status {
    return { code: this.code, message: this.message, details: this.details };
  }

  static fromStatus(status: Status): TtrpcError {
    return new TtrpcError(status.code, status.message, { details: status.details });
  }

  /** "NOT_FOUND: container \"x\" not found": the code's name and the message, for logs. */
  describe(): string {
    return `${codeName(this.code)}: ${this.message}`;
  }
}

export function isTtrpcError(value: unknown): value is TtrpcError {
  return value instanceof TtrpcError;
}
