import type { Duplex } from "node:stream";
import { Code } from "./code.js";
import {
  createFrameDecoder,
  DEFAULT_MAX_PAYLOAD,
  type DecodedFrame,
  encodeFrameHeader,
  type FrameDecoder,
  HEADER_LENGTH,
  MessageType,
} from "./frame.js";
import { decodeRequest, encodeResponse, type Request } from "./messages.js";
import { Outbox } from "./outbox.js";
import { type Status, TtrpcError } from "./status.js";
import { StreamIdTracker } from "./stream-ids.js";

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
}

const MAX_STATUS_MESSAGE = 16 << 10;
const EMPTY = new Uint8Array(0);
const MAX_TIMER_MS = 2 ** 31 - 1;
const EMPTY_METADATA: Metadata = new Map();

function defaultStatusFromError(error: unknown): Status {
  if (error instanceof TtrpcError) return error.toStatus();
  return { code: Code.UNKNOWN, message: error instanceof Error ? error.message : String(error), details: [] };
}

function metadataFromRequest(req: Request): Metadata {
  if (req.metadata.length === 0) return EMPTY_METADATA;
  const md = new Map<string, string[]>();
  for (const { key, value } of req.metadata) {
    const k = key.toLowerCase();
    const values = md.get(k);
    if (values) values.push(value);
    else md.set(k, [value]);
  }
  return md;
}

function formatNanos(nanos: bigint): string {
  return nanos % 1_000_000n === 0n ? `${nanos / 1_000_000n}ms` : `${nanos}ns`;
}

/**
 * A ttrpc server (containerd/ttrpc protocol): unary calls, multiplexed on each connection, answered
 * in whatever order they finish.
 */
export class TtrpcServer {
  readonly #services = new Map<string, Map<string, UnaryHandler>>();
  readonly #connections = new Set<ServerConnection>();
  readonly #options: Required<Omit<TtrpcServerOptions, "log">> & { log: LogFn | undefined };
  #shuttingDown = false;

  constructor(options: TtrpcServerOptions = {}) {
    this.#options = {
      maxPayload: options.maxPayload ?? DEFAULT_MAX_PAYLOAD,
      maxConcurrentCalls: options.maxConcurrentCalls ?? 4096,
      statusFromError: options.statusFromError ?? defaultStatusFromError,
      log: options.log,
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
  get options() {
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

/** One call in flight; it is also the handler's CallContext. Its AbortSignal is made only if asked for. */
class Call implements CallContext {
  readonly service: string;
  readonly method: string;
  readonly streamId: number;
  readonly metadata: Metadata;
  deadline: number | undefined = undefined;
  timer: NodeJS.Timeout | undefined = undefined;
  #controller: AbortController | undefined;
  #abortReason: TtrpcError | undefined;

  constructor(streamId: number, req: Request) {
    this.streamId = streamId;
    this.service = req.service;
    this.method = req.method;
    this.metadata = metadataFromRequest(req);
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#abortReason) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  end(abortReason: TtrpcError | undefined) {
    if (this.timer) clearTimeout(this.timer);
    if (!abortReason) return;
    this.#abortReason = abortReason;
    this.#controller?.abort(abortReason);
  }
}

class ServerConnection {
  readonly #server: TtrpcServer;
  readonly #socket: Duplex;
  readonly #decoder: FrameDecoder;
  readonly #streamIds = new StreamIdTracker();
  readonly #calls = new Map<number, Call>();
  readonly #onClosed: () => void;
  readonly #outbox: Outbox;
  #idleWaiters: (() => void)[] = [];
  #closed = false;

  constructor(server: TtrpcServer, socket: Duplex, onClosed: () => void) {
    this.#server = server;
    this.#socket = socket;
    this.#onClosed = onClosed;
    this.#decoder = createFrameDecoder(server.options.maxPayload);
    this.#outbox = new Outbox((data) => {
      if (!this.#closed && !socket.write(data)) socket.pause();
    });
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("end", () => this.#teardown("peer closed the connection"));
    socket.on("close", () => this.#teardown("connection closed"));
    socket.on("error", (error: Error) => {
      this.#log("debug", "ttrpc connection error", { error: error.message });
      this.#teardown(`connection error: ${error.message}`);
    });
    socket.on("drain", () => socket.resume());
    socket.resume();
  }

  /** Resolves once no call is in flight on this connection. */
  idle(): Promise<void> {
    if (this.#calls.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  close(): void {
    this.#teardown("server shut down");
    this.#socket.end();
  }

  #log(level: LogLevel, message: string, fields: Record<string, unknown>) {
    this.#server.options.log?.(level, message, fields);
  }

  /** Nothing a peer sends may throw out of here: a bug in handling it costs the connection, not the process. */
  #onData(chunk: Buffer) {
    try {
      for (const frame of this.#decoder.push(chunk)) this.#onFrame(frame);
    } catch (error) {
      this.#log("warn", "ttrpc failed to handle a frame; closing the connection", { error: String(error) });
      this.#socket.destroy();
    }
  }

  #onFrame(frame: DecodedFrame) {
    if (this.#closed) return;
    const { streamId } = frame;
    if (frame.type !== MessageType.REQUEST) {
      this.#log("debug", "ttrpc ignored a frame that is not a request", { streamId, type: frame.type });
      return;
    }
    const verdict = this.#streamIds.claim(streamId);
    if (verdict === "even") {
      return this.#fail(
        streamId,
        Code.INVALID_ARGUMENT,
        `stream id ${streamId} is even; clients use odd ids`,
      );
    }
    if (verdict === "reused") {
      return this.#fail(
        streamId,
        Code.INVALID_ARGUMENT,
        `stream id ${streamId} was already used on this connection`,
      );
    }
    if (frame.kind === "oversized") {
      const limit = this.#server.options.maxPayload;
      return this.#fail(
        streamId,
        Code.RESOURCE_EXHAUSTED,
        `request of ${frame.length} bytes exceeds the limit of ${limit} bytes`,
      );
    }
    let req: Request;
    try {
      req = decodeRequest(frame.payload);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return this.#fail(streamId, Code.INVALID_ARGUMENT, `cannot decode the request envelope: ${reason}`);
    }
    this.#startCall(streamId, req);
  }

  #startCall(streamId: number, req: Request) {
    const { options } = this.#server;
    if (this.#server.shuttingDown) return this.#fail(streamId, Code.UNAVAILABLE, "server is shutting down");
    if (this.#calls.size >= options.maxConcurrentCalls) {
      return this.#fail(
        streamId,
        Code.RESOURCE_EXHAUSTED,
        `connection already has ${this.#calls.size} calls in flight (limit ${options.maxConcurrentCalls})`,
      );
    }
    const handler = this.#server.resolve(req.service, req.method);
    if (handler instanceof TtrpcError) return this.#failWith(streamId, handler.toStatus());
    if (req.timeoutNano < 0n) {
      return this.#fail(
        streamId,
        Code.DEADLINE_EXCEEDED,
        `timeout ${formatNanos(req.timeoutNano)} already passed`,
      );
    }

    const call = new Call(streamId, req);
    if (req.timeoutNano > 0n) {
      const ms = Number((req.timeoutNano + 999_999n) / 1_000_000n);
      if (ms <= MAX_TIMER_MS) {
        call.deadline = Date.now() + ms;
        call.timer = setTimeout(() => this.#expire(call, req.timeoutNano), ms);
      }
    }
    this.#calls.set(streamId, call);

    let result: Uint8Array | Promise<Uint8Array>;
    try {
      result = handler(req.payload, call);
    } catch (error) {
      this.#finishWithError(call, error);
      return;
    }
    if (result instanceof Uint8Array) {
      this.#finish(call, result);
      return;
    }
    result.then(
      (payload) => this.#finish(call, payload),
      (error: unknown) => this.#finishWithError(call, error),
    );
  }

  #expire(call: Call, timeoutNano: bigint) {
    call.timer = undefined;
    const error = new TtrpcError(
      Code.DEADLINE_EXCEEDED,
      `deadline exceeded after ${formatNanos(timeoutNano)}`,
    );
    if (this.#endCall(call, error)) this.#failWith(call.streamId, error.toStatus());
  }

  /** Removes a call that is still in flight; false if it had already ended (timed out, connection closed). */
  #endCall(call: Call, abortReason?: TtrpcError): boolean {
    if (this.#calls.get(call.streamId) !== call) return false;
    this.#calls.delete(call.streamId);
    call.end(abortReason);
    if (this.#calls.size === 0 && this.#idleWaiters.length > 0) {
      for (const resolve of this.#idleWaiters.splice(0)) resolve();
    }
    return true;
  }

  #finish(call: Call, payload: Uint8Array) {
    if (!this.#endCall(call)) return;
    const limit = this.#server.options.maxPayload;
    const frame = encodeResponse({ payload }, HEADER_LENGTH);
    if (frame.length - HEADER_LENGTH > limit) {
      const size = frame.length - HEADER_LENGTH;
      this.#fail(
        call.streamId,
        Code.RESOURCE_EXHAUSTED,
        `response of ${size} bytes exceeds the limit of ${limit} bytes`,
      );
      return;
    }
    this.#send(call.streamId, frame);
  }

  #finishWithError(call: Call, error: unknown) {
    if (!this.#endCall(call)) return;
    let status: Status;
    try {
      status = this.#server.options.statusFromError(error, call);
    } catch (mapError) {
      status = defaultStatusFromError(mapError);
    }
    this.#failWith(call.streamId, status);
  }

  #fail(streamId: number, code: Code, message: string) {
    this.#failWith(streamId, { code, message, details: [] });
  }

  #failWith(streamId: number, status: Status) {
    const message =
      status.message.length > MAX_STATUS_MESSAGE
        ? `${status.message.slice(0, MAX_STATUS_MESSAGE)}… (truncated)`
        : status.message;
    this.#send(streamId, encodeResponse({ status: { ...status, message }, payload: EMPTY }, HEADER_LENGTH));
  }

  /** Queues a response frame (header room included) for this tick's write. */
  #send(streamId: number, frame: Buffer) {
    if (this.#closed) return;
    encodeFrameHeader(frame, streamId, MessageType.RESPONSE, 0, frame.length - HEADER_LENGTH);
    this.#outbox.push(frame);
  }

  #teardown(reason: string) {
    if (this.#closed) return;
    this.#outbox.flush();
    this.#closed = true;
    const error = new TtrpcError(Code.CANCELLED, reason);
    for (const call of [...this.#calls.values()]) this.#endCall(call, error);
    this.#onClosed();
  }
}
