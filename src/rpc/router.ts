import {
  create,
  type DescMessage,
  type DescMethod,
  fromBinary,
  type Message,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import { AgentError, Code } from "../errors.js";
import { encodeInPlace } from "../protocol/bytes-reply.js";
import { type ScanLimits, scanMessage, type WireCounts } from "../protocol/protobuf-scan.js";
import type { RawCallContext, RawService } from "../protocol/raw-service.js";
import type { ByteBudget } from "../sys/byte-budget.js";

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

/**
 * The rest of a call: its reply, or the promise of it. A handler that answers at once (Health.Check, a
 * state read) goes through with no promise made, and the protocol writes its reply in the same turn.
 */
export type CallNext = (call: RpcCall) => Message | Promise<Message>;

/** Code that wraps every call once (logging, timing, policy), instead of in each handler. */
export type Interceptor = (next: CallNext) => CallNext;

/** Whether `value` is a promise (a thenable) rather than a value at hand. */
export const isPromise = <T>(value: T | Promise<T>): value is Promise<T> =>
  typeof (value as { then?: unknown } | null)?.then === "function";

/** What a request may cost to decode, checked on its wire bytes before any of it is decoded. */
export interface DecodeLimits extends ScanLimits {
  /** Charged with each request's estimated decoded size while its call runs; a request past it is refused. */
  readonly budget?: ByteBudget | undefined;
}

/**
 * A CreateContainer with a Docker-sized seccomp profile, a hundred env vars and thirty mounts has about a
 * thousand fields, and Kata's schema nests 7 levels at most (a map entry included): far below both.
 */
export const DEFAULT_DECODE_LIMITS: DecodeLimits = { maxFields: 100_000, maxDepth: 32 };

/** Heap a decoded field and a decoded message take, about (protobuf-es on Node 20: 10–60 and ~200 bytes). */
const FIELD_HEAP = 32;
const MESSAGE_HEAP = 192;

const nothing = () => {};

/** The encoding of a message without fields (google.protobuf.Empty, the reply of most calls). */
const NO_BYTES = new Uint8Array(0);

/** Scans a request before it is decoded and charges its decoded size; the returned function gives it back. */
function admit(schema: DescMessage, payload: Uint8Array, path: string, limits: DecodeLimits): () => void {
  let counts: WireCounts;
  try {
    counts = scanMessage(schema, payload, limits);
  } catch (error) {
    throw AgentError.wrap(error, `cannot decode ${schema.typeName} for ${path}`);
  }
  const { budget } = limits;
  if (!budget) return nothing;
  const bytes = counts.fields * FIELD_HEAP + counts.messages * MESSAGE_HEAP;
  if (bytes > budget.available) {
    throw new AgentError(
      Code.RESOURCE_EXHAUSTED,
      `${path}: requests in flight hold ${budget.used} bytes; decoding this ${schema.typeName} ` +
        `(${counts.fields} fields) needs about ${bytes} more, past the limit of ${budget.limit} bytes`,
    );
  }
  return budget.charge(bytes);
}

/** Unknown fields are dropped as they are read: padding cannot ride along with a call that blocks for hours. */
function decode(schema: DescMessage, payload: Uint8Array, path: string): Message {
  try {
    return fromBinary(schema, payload, { readUnknownFields: false });
  } catch (error) {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      `cannot decode ${schema.typeName} for ${path}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

function encode(schema: DescMessage, message: Message): Uint8Array {
  if (schema.fields.length === 0 && message.$unknown === undefined) return NO_BYTES;
  return encodeInPlace(schema, message) ?? toBinary(schema, message);
}

/** Awaits the reply, seeing neither the request nor its bytes: they stay collectable while a call blocks. */
async function encoded(
  schema: DescMessage,
  reply: Promise<Message>,
  release: () => void,
): Promise<Uint8Array> {
  try {
    return encode(schema, await reply);
  } finally {
    release();
  }
}

/**
 * Builds the byte-level service both protocols serve: check the request's wire bytes against `limits`,
 * decode it, run the interceptors around the handler, encode the reply. An undecodable request is
 * INVALID_ARGUMENT; a method without a handler is UNIMPLEMENTED, naming it.
 */
export function routeService<S extends GenServiceMethods>(
  service: GenService<S>,
  implementation: ServiceImpl<S>,
  interceptors: readonly Interceptor[] = [],
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
): RawService {
  const handlers = implementation as Record<string, MethodImpl<MethodShape> | undefined>;
  const invoke: CallNext = ({ method, request, context }) => {
    const handler = handlers[method.localName];
    if (!handler) {
      return Promise.reject(
        new AgentError(Code.UNIMPLEMENTED, `${context.path} is not implemented by berth yet`),
      );
    }
    const { output } = method;
    let init: ReturnType<MethodImpl<MethodShape>>;
    try {
      init = handler(request, context);
    } catch (error) {
      return Promise.reject(error);
    }
    return isPromise(init) ? init.then((value) => create(output, value)) : create(output, init);
  };
  const chain = interceptors.reduceRight<CallNext>((next, interceptor) => interceptor(next), invoke);
  const methods: RawService["methods"] = Object.fromEntries(
    service.methods.map((method) => {
      const path = `/${service.typeName}/${method.name}`;
      const handle = (payload: Uint8Array, raw: RawCallContext): Uint8Array | Promise<Uint8Array> => {
        let release = nothing;
        let reply: Message | Promise<Message>;
        try {
          release = admit(method.input, payload, path, limits);
          reply = chain({
            method,
            request: decode(method.input, payload, path),
            context: new CallContext(raw, path),
          });
          if (!isPromise(reply)) {
            release();
            return encode(method.output, reply);
          }
        } catch (error) {
          release();
          return Promise.reject(error);
        }
        return encoded(method.output, reply, release);
      };
      return [method.name, handle];
    }),
  );
  return { name: service.typeName, methods };
}
