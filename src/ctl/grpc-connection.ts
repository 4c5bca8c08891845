import type { DescMethod } from "@bufbuild/protobuf";
import { Client, credentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import { type AgentAddress, unreachableMessage } from "./agent-address.js";
import type { AgentConnection, InvokeOptions } from "./agent-connection.js";
import { openAgentSocket } from "./agent-socket.js";
import { CtlError, RpcError } from "./ctl-error.js";
import { rpcPath } from "./rpc-catalog.js";
import { bridgeToUnix, type UnixBridge } from "./unix-bridge.js";

const READY_TIMEOUT_MS = 10_000;
const passThrough = (bytes: Uint8Array) => Buffer.from(bytes);

/** A gRPC connection through @grpc/grpc-js's generic client; abstract and vsock addresses via a bridge. */
export async function connectGrpc(target: AgentAddress, timeoutMs?: number): Promise<AgentConnection> {
  const { address } = target;
  let bridge: UnixBridge | undefined;
  let path: string;
  if (address.kind === "unix") path = address.path;
  else {
    bridge = await bridgeToUnix(() => openAgentSocket(address));
    path = bridge.path;
  }
  const client = new Client(`unix://${path}`, credentials.createInsecure());
  const close = () => {
    client.close();
    bridge?.close();
  };
  try {
    await new Promise<void>((resolve, reject) =>
      client.waitForReady(Date.now() + (timeoutMs || READY_TIMEOUT_MS), (error) =>
        error ? reject(error) : resolve(),
      ),
    );
  } catch (error) {
    close();
    throw new CtlError(unreachableMessage(target, `gRPC: ${(error as Error).message}`), 1, { cause: error });
  }
  return {
    invoke: (method, request, options) => invoke(client, method, request, options),
    close,
  };
}

function invoke(
  client: Client,
  method: DescMethod,
  request: Uint8Array,
  options: InvokeOptions = {},
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const call = client.makeUnaryRequest(
      rpcPath(method),
      passThrough,
      (bytes: Buffer) => bytes,
      request,
      new Metadata(),
      options.timeoutMs === undefined ? {} : { deadline: Date.now() + options.timeoutMs },
      (error: ServiceError | null, reply?: Buffer) => {
        options.signal?.removeEventListener("abort", cancel);
        if (error) reject(new RpcError(method.name, error.code, error.details || error.message));
        else resolve(reply ?? new Uint8Array(0));
      },
    );
    const cancel = () => call.cancel();
    options.signal?.addEventListener("abort", cancel, { once: true });
  });
}
