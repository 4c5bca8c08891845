import {
  type ConnectionInjector,
  type Metadata as GrpcMetadata,
  type MethodDefinition,
  Server,
  ServerCredentials,
  type ServerErrorResponse,
  type ServerUnaryCall,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import type { RawCallContext, RawHandler, RawService } from "../raw-service.js";
import { Code } from "../ttrpc/code.js";
import { DEFAULT_MAX_PAYLOAD } from "../ttrpc/frame.js";
import { type ByteBudgetLike, overBudget } from "../ttrpc/outbox.js";
import type { Metadata } from "../ttrpc/server.js";
import type { Status } from "../ttrpc/status.js";

/**
 * Streams one HTTP/2 connection may have open. Kata 1.x, the gRPC host, opened a connection per shim (one
 * per container process) with a few calls each; this leaves room, and the request budget bounds them all.
 */
export const DEFAULT_MAX_CONCURRENT_STREAMS = 1024;
/** Measured: a unary call blocked in grpc-js holds about 8 KiB of heap and 19 KiB of RSS with nghttp2's state. */
export const DEFAULT_GRPC_CALL_OVERHEAD = 16 << 10;

const identity = (bytes: Buffer) => bytes;
const toBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

function metadataFromGrpc(metadata: GrpcMetadata): Metadata {
  const out = new Map<string, string[]>();
  for (const key of Object.keys(metadata.getMap())) {
    const values = metadata.get(key).filter((v): v is string => typeof v === "string");
    if (values.length > 0) out.set(key, values);
  }
  return out;
}

/** A gRPC call's RawCallContext; like ttrpc's, it makes its AbortSignal and metadata map only when asked. */
class GrpcCallContext implements RawCallContext {
  readonly deadline: number | undefined;
  readonly #call: ServerUnaryCall<Buffer, Uint8Array>;
  #controller: AbortController | undefined;
  #cancelled = false;
  #metadata: Metadata | undefined;
  readonly #cancelledError: Error;

  constructor(call: ServerUnaryCall<Buffer, Uint8Array>, cancelled: Error) {
    this.#call = call;
    this.#cancelledError = cancelled;
    const deadline = call.getDeadline();
    this.deadline =
      deadline instanceof Date ? deadline.getTime() : Number.isFinite(deadline) ? deadline : undefined;
    call.once("cancelled", () => {
      this.#cancelled = true;
      this.#controller?.abort(this.#cancelledError);
    });
  }

  /** grpc-js is done with the call: it was cancelled, or its status has been sent. */
  get ended(): boolean {
    return this.#cancelled;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#cancelled) this.#controller.abort(this.#cancelledError);
    }
    return this.#controller.signal;
  }

  get metadata(): Metadata {
    this.#metadata ??= metadataFromGrpc(this.#call.metadata);
    return this.#metadata;
  }
}

export interface GrpcServerOptions {
  /** The wire status of an error a handler threw. */
  statusFromError: (error: unknown) => Status;
  /** The reason a call's AbortSignal gives once the client cancelled it or its deadline passed. */
  cancelled: Error;
  /** Shared with the ttrpc server: each call is charged its request plus `callOverhead` until its handler settles. */
  requestBudget?: ByteBudgetLike | undefined;
  /** What a call in flight costs besides its request (default 16 KiB). */
  callOverhead?: number | undefined;
  /** Shared with the ttrpc server: each reply is charged until grpc-js is done with its stream. */
  replyBudget?: ByteBudgetLike | undefined;
  maxConcurrentStreams?: number | undefined;
}

function errorResponse(status: Status): ServerErrorResponse {
  return { name: "Error", message: status.message, code: status.code, details: status.message };
}

function unaryMethod(handler: RawHandler, options: GrpcServerOptions) {
  const { statusFromError, cancelled, requestBudget, replyBudget } = options;
  const overhead = options.callOverhead ?? DEFAULT_GRPC_CALL_OVERHEAD;
  return (call: ServerUnaryCall<Buffer, Uint8Array>, callback: sendUnaryData<Uint8Array>) => {
    const cost = call.request.length + overhead;
    if (requestBudget && cost > requestBudget.available) {
      callback(
        errorResponse({
          code: Code.RESOURCE_EXHAUSTED,
          message: overBudget(requestBudget, cost),
          details: [],
        }),
      );
      return;
    }
    const releaseRequest = requestBudget?.charge(cost);
    const context = new GrpcCallContext(call, cancelled);
    Promise.resolve(handler(call.request, context)).then(
      (reply) => {
        releaseRequest?.();
        // grpc-js emits "cancelled" on every unary call once its status is sent (after the reply's last
        // byte left flow control) or its stream closed; a call already done has its reply dropped.
        if (replyBudget && !context.ended) call.once("cancelled", replyBudget.charge(reply.length));
        callback(null, reply);
      },
      (error: unknown) => {
        releaseRequest?.();
        callback(errorResponse(statusFromError(error)));
      },
    );
  };
}

export interface GrpcServer {
  server: Server;
  injector: ConnectionInjector;
}

/**
 * A gRPC server (HTTP/2, @grpc/grpc-js) for the same services. It binds no port: connections are handed
 * to it through the returned injector, after the listener has recognised the HTTP/2 preface. It shares no
 * module state with the rest of the agent (errors come in through `options`): when the agent runs from its
 * start-up snapshot, this module is loaded from a file of its own at the first gRPC connection.
 */
export function createGrpcServer(services: readonly RawService[], options: GrpcServerOptions): GrpcServer {
  const server = new Server({
    "grpc.enable_channelz": 0,
    "grpc.max_concurrent_streams": options.maxConcurrentStreams ?? DEFAULT_MAX_CONCURRENT_STREAMS,
    "grpc.max_receive_message_length": DEFAULT_MAX_PAYLOAD,
    "grpc.max_send_message_length": DEFAULT_MAX_PAYLOAD,
  });
  for (const service of services) {
    const definition: Record<string, MethodDefinition<Buffer, Uint8Array>> = {};
    const implementation: UntypedServiceImplementation = {};
    for (const [name, handler] of Object.entries(service.methods)) {
      definition[name] = {
        path: `/${service.name}/${name}`,
        requestStream: false,
        responseStream: false,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: toBuffer,
        responseDeserialize: identity,
      };
      implementation[name] = unaryMethod(handler, options);
    }
    server.addService(definition, implementation);
  }
  return { server, injector: server.createConnectionInjector(ServerCredentials.createInsecure()) };
}
