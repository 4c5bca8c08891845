import {
  create,
  type DescMethod,
  type DescMethodUnary,
  fromBinary,
  fromJson,
  type JsonValue,
  type MessageInitShape,
  type MessageShape,
  toBinary,
  toJson,
} from "@bufbuild/protobuf";
import { AgentService } from "../protocol/gen/agent_pb.js";
import { Health } from "../protocol/gen/health_pb.js";
import type { AgentConnection, InvokeOptions } from "./agent-connection.js";
import { UsageError } from "./ctl-error.js";
import { protocolRegistry } from "./rpc-catalog.js";

const METHODS = { ...Health.method, ...AgentService.method };
type Methods = typeof METHODS;
export type RpcName = keyof Methods;
export type RpcRequest<K extends RpcName> = MessageInitShape<Methods[K]["input"]>;
export type RpcReply<K extends RpcName> = MessageShape<Methods[K]["output"]>;

/** The agent's RPCs, typed by the generated schema, on a connection over ttrpc or gRPC. */
export class AgentClient {
  readonly #connection: AgentConnection;
  /** Timeout of calls that answer at once (all but the blocking ones, which pass their own). */
  readonly timeoutMs: number | undefined;

  constructor(connection: AgentConnection, timeoutMs: number | undefined) {
    this.#connection = connection;
    this.timeoutMs = timeoutMs;
  }

  /** Calls `name` (e.g. "createContainer"); the default timeout applies unless `options` gives one. */
  async call<K extends RpcName>(
    name: K,
    request: RpcRequest<K>,
    options: InvokeOptions = { timeoutMs: this.timeoutMs },
  ): Promise<RpcReply<K>> {
    const method = METHODS[name] as unknown as DescMethodUnary;
    const input = method.input as Methods[K]["input"];
    const reply = await this.#connection.invoke(method, toBinary(input, create(input, request)), options);
    return fromBinary(method.output as Methods[K]["output"], reply);
  }

  /** Calls any RPC with a protobuf-JSON request and returns the reply as protobuf JSON. */
  async callJson(method: DescMethod, requestJson: string): Promise<JsonValue> {
    let json: JsonValue;
    try {
      json = JSON.parse(requestJson.trim() || "{}") as JsonValue;
    } catch (error) {
      throw new UsageError(`the request is not valid JSON: ${(error as Error).message}`);
    }
    let request: ReturnType<typeof fromJson>;
    try {
      request = fromJson(method.input, json, { registry: protocolRegistry });
    } catch (error) {
      const why = (error as Error).message.replace(/^cannot decode message [\w.]+ from JSON: /, "");
      throw new UsageError(`the request does not fit ${method.input.typeName}: ${why}`);
    }
    const reply = await this.#connection.invoke(method, toBinary(method.input, request), {
      timeoutMs: this.timeoutMs,
    });
    return toJson(method.output, fromBinary(method.output, reply), {
      registry: protocolRegistry,
      alwaysEmitImplicit: true,
    });
  }

  close(): void {
    this.#connection.close();
  }
}
