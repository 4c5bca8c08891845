import { createRegistry, type DescMethod } from "@bufbuild/protobuf";
import { AgentService } from "../protocol/gen/agent_pb.js";
import { Health } from "../protocol/gen/health_pb.js";
import { UsageError } from "./ctl-error.js";

const SERVICES = [Health, AgentService];

/** Every message type of the agent's protocol, for protobuf JSON (google.protobuf.* included). */
export const protocolRegistry = createRegistry(...SERVICES);

/** Every RPC berthctl can call, by method name ("Check", "CreateContainer"), one per service method. */
export function rpcNames(): string[] {
  return SERVICES.flatMap((s) => s.methods.map((m) => m.name));
}

/**
 * Finds an RPC by "Method", "Service/Method" or the full "/grpc.Service/Method"; method names are
 * matched case-insensitively, since they are unique either way.
 */
export function findRpc(name: string): DescMethod {
  const [service, method] = name.replace(/^\/?(grpc\.)?/, "").split("/", 2);
  const lower = (method ?? service ?? "").toLowerCase();
  const found = SERVICES.flatMap((s) => s.methods).filter(
    (m) => m.name.toLowerCase() === lower && (method === undefined || m.parent.name === service),
  );
  const [only] = found;
  if (!only || found.length > 1) {
    throw new UsageError(`unknown RPC ${JSON.stringify(name)}; "berthctl list" shows them all`);
  }
  return only;
}

/** "/grpc.AgentService/CreateContainer": the method's gRPC path. */
export function rpcPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}
