import { AgentError, Code } from "../errors.js";

/** Why `signal` was aborted, as an AgentError: the caller's deadline or cancellation keeps its code. */
export function abortReason(signal: AbortSignal): AgentError {
  const reason: unknown = signal.reason;
  if (reason === undefined) return new AgentError(Code.CANCELLED, "the call was cancelled");
  return AgentError.from(reason);
}

/** Throws the abort's reason (an AgentError) once `signal` is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortReason(signal);
}

/**
 * `promise`, or the abort's reason once `signal` is aborted first. On abort nothing of the caller stays
 * attached to `signal`, and what stays attached to `promise` holds no reference to the caller's values.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    let settle: { resolve: (value: T) => void; reject: (error: unknown) => void } | undefined = {
      resolve,
      reject,
    };
    const onAbort = () => {
      const s = settle;
      settle = undefined;
      s?.reject(abortReason(signal));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        settle?.resolve(value);
        settle = undefined;
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        settle?.reject(error);
        settle = undefined;
      },
    );
  });
}

/**
 * Aborts `target` when `source` aborts (with its reason); returns the function that unlinks them. A
 * source already aborted aborts the target at once.
 */
export function forwardAbort(source: AbortSignal | undefined, target: AbortController): () => void {
  if (!source) return () => {};
  if (source.aborted) {
    target.abort(source.reason);
    return () => {};
  }
  const onAbort = () => target.abort(source.reason);
  source.addEventListener("abort", onAbort, { once: true });
  return () => source.removeEventListener("abort", onAbort);
}

/** Whether `promise` settles within `ms`: false after `ms`, or as soon as `signal` aborts. */
export function settlesWithin(
  promise: Promise<unknown>,
  ms: number,
  signal?: AbortSignal | undefined,
): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (settled: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(settled);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(done, ms, false);
    signal?.addEventListener("abort", onAbort, { once: true });
    promise.then(
      () => done(true),
      () => done(true),
    );
  });
}
