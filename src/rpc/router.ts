import {
  create,
  type DescMethod,
  fromBinary,
  type Message,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import { AgentError, Code } from "../errors.js";
import type { RawCallContext, RawService } from "../protocol/raw-service.js";

/** What a handler knows of the call besides its request. */
export interface RpcContext extends RawCallContext {
  /** "/grpc.AgentService/CreateContainer", as Kata names calls in logs and policy. */
  readonly path: string;
}

/** Reads through to the protocol's context, so its AbortSignal is still made only when asked for. */
class CallContext implements RpcContext {
  readonly path: string;
  readonly #raw: RawCallContext;

  constructor(raw: RawCallContext, path: string) {
    this.#raw = raw;
    this.path = path;
  }

  get signal() {
    return this.#raw.signal;
  }

  get metadata() {
    return this.#raw.metadata;
  }

  get deadline() {
    return this.#raw.deadline;
  }
}

type MethodShape = Pick<DescMethod, "input" | "output">;

export type MethodImpl<M extends MethodShape> = (
  request: MessageShape<M["input"]>,
  context: RpcContext,
) => Promise<MessageInitShape<M["output"]>> | MessageInitShape<M["output"]>;

/** A service's handlers by method (localName, e.g. `createContainer`); missing ones answer UNIMPLEMENTED. */
export type ServiceImpl<S extends GenServiceMethods> = { [K in keyof S]?: MethodImpl<S[K]> };

/** One decoded call as interceptors see it. */
export interface RpcCall {
  readonly method: DescMethod;
  readonly request: Message;
  readonly context: RpcContext;
}

export type CallNext = (call: RpcCall) => Promise<Message>;

/** Code that wraps every call once (logging, timing, policy), instead of in each handler. */
export type Interceptor = (next: CallNext) => CallNext;

/**
 * Builds the byte-level service both protocols serve: decode the request, run the interceptors around the
 * handler, encode the reply. An undecodable request is INVALID_ARGUMENT; a method without a handler is
 * UNIMPLEMENTED, naming it.
 */
export function routeService<S extends GenServiceMethods>(
  service: GenService<S>,
  implementation: ServiceImpl<S>,
  interceptors: readonly Interceptor[] = [],
): RawService {
  const handlers = implementation as Record<string, MethodImpl<MethodShape> | undefined>;
  const invoke: CallNext = async ({ method, request, context }) => {
    const handler = handlers[method.localName];
    if (!handler) {
      throw new AgentError(Code.UNIMPLEMENTED, `${context.path} is not implemented by berth yet`);
    }
    return create(method.output, await handler(request, context));
  };
  const chain = interceptors.reduceRight<CallNext>((next, interceptor) => interceptor(next), invoke);
  const methods: RawService["methods"] = Object.fromEntries(
    service.methods.map((method) => {
      const path = `/${service.typeName}/${method.name}`;
      const handle = async (payload: Uint8Array, raw: RawCallContext) => {
        let request: Message;
        try {
          request = fromBinary(method.input, payload);
        } catch (error) {
          throw new AgentError(
            Code.INVALID_ARGUMENT,
            `cannot decode ${method.input.typeName} for ${path}: ${(error as Error).message}`,
            { cause: error },
          );
        }
        const reply = await chain({ method, request, context: new CallContext(raw, path) });
        return toBinary(method.output, reply);
      };
      return [method.name, handle];
    }),
  );
  return { name: service.typeName, methods };
}
