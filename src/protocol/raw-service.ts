import type { Metadata } from "./ttrpc/server.js";

/** What either protocol hands a method: the call's lifetime, metadata and deadline. */
export interface RawCallContext {
  readonly signal: AbortSignal;
  readonly metadata: Metadata;
  /** Epoch milliseconds by which the caller wants an answer, if it set a timeout. */
  readonly deadline: number | undefined;
}

/**
 * A method seen by the protocol layer: serialized request in, serialized reply out, at once or later. A
 * failure is always a rejected promise, never a throw.
 */
export type RawHandler = (payload: Uint8Array, context: RawCallContext) => Uint8Array | Promise<Uint8Array>;

/** A service as both protocol servers serve it, by its full name ("grpc.AgentService"). */
export interface RawService {
  readonly name: string;
  readonly methods: Readonly<Record<string, RawHandler>>;
}
