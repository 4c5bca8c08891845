import type { DescMethod } from "@bufbuild/protobuf";
import { TtrpcClient } from "../protocol/ttrpc/client.js";
import { TtrpcError } from "../protocol/ttrpc/status.js";
import { type AgentAddress, unreachableMessage } from "./agent-address.js";
import { connectFailure, openAgentSocket } from "./agent-socket.js";
import { CtlError, RpcError } from "./ctl-error.js";

export interface InvokeOptions {
  /** Give up after this long; none: wait as long as the agent takes (ReadStdout, WaitProcess). */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** One connection to the agent, over ttrpc or gRPC: unary calls on encoded messages. */
export interface AgentConnection {
  /** Resolves with the encoded reply; rejects with an RpcError when the agent answers with an error. */
  invoke(method: DescMethod, request: Uint8Array, options?: InvokeOptions): Promise<Uint8Array>;
  close(): void;
}

/**
 * Connects to the agent at `target` over ttrpc, or gRPC when `grpc` is set. An agent that cannot be
 * reached fails with a message naming the address tried and how to choose another.
 */
export async function connectAgent(
  target: AgentAddress,
  options: { grpc?: boolean; timeoutMs?: number | undefined } = {},
): Promise<AgentConnection> {
  const socket = await openAgentSocket(target.address).catch((error: unknown) => {
    throw new CtlError(unreachableMessage(target, connectFailure(error)), 1, { cause: error });
  });
  if (!options.grpc) return new TtrpcConnection(new TtrpcClient(socket));
  socket.destroy();
  const { connectGrpc } = await import("./grpc-connection.js");
  return connectGrpc(target, options.timeoutMs);
}

class TtrpcConnection implements AgentConnection {
  readonly #client: TtrpcClient;

  constructor(client: TtrpcClient) {
    this.#client = client;
  }

  async invoke(method: DescMethod, request: Uint8Array, options: InvokeOptions = {}): Promise<Uint8Array> {
    try {
      return await this.#client.call(method.parent.typeName, method.name, request, {
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
    } catch (error) {
      if (error instanceof TtrpcError) throw new RpcError(method.name, error.code, error.message);
      throw error;
    }
  }

  close(): void {
    this.#client.close();
  }
}
