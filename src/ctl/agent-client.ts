import { connect } from "node:net";
import {
  createRegistry,
  type DescMethod,
  fromBinary,
  fromJsonString,
  type JsonValue,
  toBinary,
  toJson,
} from "@bufbuild/protobuf";
import { AgentError, Code } from "../errors.js";
import { AgentService } from "../protocol/gen/agent_pb.js";
import { Health } from "../protocol/gen/health_pb.js";
import { TtrpcClient } from "../protocol/ttrpc/client.js";
import { formatListenAddress, type ListenAddress } from "../transport/address.js";

const SERVICES = [Health, AgentService];
const registry = createRegistry(...SERVICES);

/** Every RPC berthctl can call, as "Service/Method" ("Health/Check", "AgentService/CreateContainer"). */
export function rpcNames(): string[] {
  return SERVICES.flatMap((s) => s.methods.map((m) => `${s.name}/${m.name}`));
}

/** Finds an RPC by "Method", "Service/Method" or the full "/grpc.Service/Method", case-sensitively. */
export function findRpc(name: string): DescMethod {
  const [service, method] = name.replace(/^\/?(grpc\.)?/, "").split("/", 2);
  const matches = SERVICES.flatMap((s) => s.methods).filter((m) =>
    method === undefined ? m.name === service : m.parent.name === service && m.name === method,
  );
  const [only] = matches;
  if (!only || matches.length > 1) {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      `unknown RPC ${JSON.stringify(name)}; "berthctl list" shows them all`,
    );
  }
  return only;
}

/** A ttrpc connection to berth (or any Kata agent) on a unix socket path. */
export async function connectAgent(address: ListenAddress): Promise<TtrpcClient> {
  if (address.kind !== "unix") {
    throw new AgentError(
      Code.UNIMPLEMENTED,
      `berthctl connects to unix:///path addresses only, not ${formatListenAddress(address)}`,
    );
  }
  return new Promise((resolve, reject) => {
    const socket = connect(address.path, () => resolve(new TtrpcClient(socket)));
    socket.once("error", (error) =>
      reject(
        new AgentError(
          Code.UNAVAILABLE,
          `cannot reach the agent at ${formatListenAddress(address)}: ${error.message}`,
        ),
      ),
    );
  });
}

/** Calls an RPC with a JSON request (protobuf JSON mapping) and returns the JSON reply. */
export async function callJson(
  client: TtrpcClient,
  method: DescMethod,
  requestJson: string,
  timeoutMs: number,
): Promise<JsonValue> {
  let request: ReturnType<typeof fromJsonString>;
  try {
    request = fromJsonString(method.input, requestJson || "{}", { registry });
  } catch (error) {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      `the request is not a valid ${method.input.typeName}: ${(error as Error).message}`,
    );
  }
  const reply = await client.call(method.parent.typeName, method.name, toBinary(method.input, request), {
    timeoutMs,
  });
  return toJson(method.output, fromBinary(method.output, reply), { registry, alwaysEmitImplicit: true });
}
