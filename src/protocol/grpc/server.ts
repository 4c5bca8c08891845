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
import type { Metadata } from "../ttrpc/server.js";
import type { Status } from "../ttrpc/status.js";

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
}

function unaryMethod(handler: RawHandler, options: GrpcServerOptions) {
  const { statusFromError, cancelled } = options;
  return (call: ServerUnaryCall<Buffer, Uint8Array>, callback: sendUnaryData<Uint8Array>) => {
    handler(call.request, new GrpcCallContext(call, cancelled)).then(
      (reply) => callback(null, reply),
      (error: unknown) => {
        const status = statusFromError(error);
        const response: ServerErrorResponse = {
          name: "Error",
          message: status.message,
          code: status.code,
          details: status.message,
        };
        callback(response);
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
  const server = new Server({ "grpc.enable_channelz": 0 });
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
