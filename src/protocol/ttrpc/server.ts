import type { Duplex } from "node:stream";
import { Code } from "./code.js";
import { DEFAULT_MAX_PAYLOAD } from "./frame.js";
import type { ByteBudgetLike } from "./outbox.js";
import { type ConnectionOptions, defaultStatusFromError, ServerConnection } from "./server-connection.js";
import { type Status, TtrpcError } from "./status.js";

export type { ByteBudgetLike } from "./outbox.js";

/** Request metadata: lower-cased keys, every value sent for a key in order. */
export type Metadata = ReadonlyMap<string, readonly string[]>;

export interface CallContext {
  readonly service: string;
  readonly method: string;
  readonly streamId: number;
  readonly metadata: Metadata;
  /** Aborts when the call's deadline passes, the connection closes or the server stops. */
  readonly signal: AbortSignal;
  /** Epoch milliseconds by which the caller wants an answer, if it set a timeout. */
  readonly deadline: number | undefined;
}

/** A unary method: request payload in, reply payload out; throw to fail the call. */
export type UnaryHandler = (payload: Uint8Array, context: CallContext) => Uint8Array | Promise<Uint8Array>;

export type LogLevel = "debug" | "warn";
export type LogFn = (level: LogLevel, message: string, fields: Record<string, unknown>) => void;

export interface TtrpcServerOptions {
  /** Largest frame payload accepted or sent (default 4 MiB, as containerd/ttrpc). */
  maxPayload?: number;
  /** Calls one connection may have in flight; more are refused with RESOURCE_EXHAUSTED (default 4096). */
  maxConcurrentCalls?: number;
  /** Turns what a handler threw into a status. Default: a TtrpcError's own status, else UNKNOWN. */
  statusFromError?: (error: unknown, context: CallContext) => Status;
  log?: LogFn;
  /**
   * Bytes the calls of every connection hold, shared with whatever else is given the same budget: a call
   * is charged its request frame plus `callOverhead` from its start until its handler settles; a call that
   * does not fit is refused with RESOURCE_EXHAUSTED, naming the numbers. Default: no such bound.
   */
  requestBudget?: ByteBudgetLike;
  /** What a call in flight costs besides its request bytes (its state, the handler's), in bytes (default 4 KiB). */
  callOverhead?: number;
  /** Charged with every reply from the moment it is queued until its connection's socket has taken it. */
  replyBudget?: ByteBudgetLike;
  /**
   * A connection with more reply bytes than this waiting for its socket (a peer that does not read)
   * starts no new call and reads no more until they drain (default 1 MiB).
   */
  replyHighWaterMark?: number;
}

/** Measured: a WaitProcess blocked in berth holds about 3.5 KiB of heap (call, router, interceptor, handler). */
export const DEFAULT_CALL_OVERHEAD = 4 << 10;
/** Room for a full 1 MiB ReadStdout reply waiting while the next calls still start. */
export const DEFAULT_REPLY_HIGH_WATER_MARK = 1 << 20;

/**
 * A ttrpc server (containerd/ttrpc protocol): unary calls, multiplexed on each connection, answered
 * in whatever order they finish.
 */
export class TtrpcServer {
  readonly #services = new Map<string, Map<string, UnaryHandler>>();
  readonly #connections = new Set<ServerConnection>();
  readonly #options: ConnectionOptions;
  #shuttingDown = false;

  constructor(options: TtrpcServerOptions = {}) {
    this.#options = {
      maxPayload: options.maxPayload ?? DEFAULT_MAX_PAYLOAD,
      maxConcurrentCalls: options.maxConcurrentCalls ?? 4096,
      statusFromError: options.statusFromError ?? defaultStatusFromError,
      log: options.log,
      requestBudget: options.requestBudget,
      callOverhead: options.callOverhead ?? DEFAULT_CALL_OVERHEAD,
      replyBudget: options.replyBudget,
      replyHighWaterMark: options.replyHighWaterMark ?? DEFAULT_REPLY_HIGH_WATER_MARK,
    };
  }

  /** Adds a service's methods, by the service's full name ("grpc.Health"). */
  register(service: string, methods: Readonly<Record<string, UnaryHandler>>): void {
    const table = this.#services.get(service) ?? new Map<string, UnaryHandler>();
    for (const [name, handler] of Object.entries(methods)) table.set(name, handler);
    this.#services.set(service, table);
  }

  /** Serves ttrpc on a connected stream until it closes. */
  serveConnection(socket: Duplex): void {
    if (this.#shuttingDown) {
      socket.destroy();
      return;
    }
    const connection = new ServerConnection(this, socket, () => this.#connections.delete(connection));
    this.#connections.add(connection);
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /**
   * Stops serving: new calls are refused with UNAVAILABLE, calls in flight get up to `graceMs` to finish,
   * then every connection is closed and what still runs is aborted.
   */
  async shutdown(graceMs = 0): Promise<void> {
    this.#shuttingDown = true;
    if (graceMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      });
      await Promise.race([Promise.all([...this.#connections].map((c) => c.idle())), graceOver]);
      clearTimeout(timer);
    }
    for (const c of [...this.#connections]) c.close();
  }

  /** @internal */
  get options(): ConnectionOptions {
    return this.#options;
  }

  /** @internal */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** @internal */
  resolve(service: string, method: string): UnaryHandler | TtrpcError {
    const table = this.#services.get(service);
    if (!table) return new TtrpcError(Code.UNIMPLEMENTED, `unknown service ${JSON.stringify(service)}`);
    const handler = table.get(method);
    if (!handler) {
      return new TtrpcError(
        Code.UNIMPLEMENTED,
        `unknown method ${JSON.stringify(method)} of service ${JSON.stringify(service)}`,
      );
    }
    return handler;
  }
}
