import { readFile } from "node:fs/promises";
import { text } from "node:stream/consumers";
import { HealthCheckResponse_ServingStatus } from "../protocol/gen/health_pb.js";
import { AGENT_VERSION } from "../version.js";
import type { CtlContext } from "./ctl-context.js";
import { CtlError } from "./ctl-error.js";
import { findRpc, rpcNames } from "./rpc-catalog.js";

/** berthctl health: Health.Check; exits 0 when the agent is SERVING. */
export async function health(ctx: CtlContext): Promise<number> {
  const client = await ctx.connect();
  const { status } = await client.call("check", {});
  const name = HealthCheckResponse_ServingStatus[status] ?? String(status);
  print(ctx, ctx.json ? JSON.stringify({ status: name }) : name);
  return status === HealthCheckResponse_ServingStatus.SERVING ? 0 : 1;
}

/** berthctl version: berthctl's own version, then the agent's (Health.Version). */
export async function version(ctx: CtlContext): Promise<number> {
  if (!ctx.json) print(ctx, `berthctl ${AGENT_VERSION}`);
  const client = await ctx.connect();
  const reply = await client.call("version", {});
  if (ctx.json) {
    const versions = {
      clientVersion: AGENT_VERSION,
      agentVersion: reply.agentVersion,
      grpcVersion: reply.grpcVersion,
    };
    print(ctx, JSON.stringify(versions));
  } else print(ctx, `agent    ${reply.agentVersion} (protocol ${reply.grpcVersion})`);
  return 0;
}

/**
 * berthctl call RPC [JSON]: any RPC with a protobuf-JSON request ("-" reads it from stdin, "@FILE" from
 * a file); prints the reply as JSON, indented unless --json.
 */
export async function call(ctx: CtlContext, rpc: string, request = "{}"): Promise<number> {
  const method = findRpc(rpc);
  const json = await requestText(ctx, request);
  const client = await ctx.connect();
  const reply = await client.callJson(method, json);
  print(ctx, JSON.stringify(reply, null, ctx.json ? undefined : 2));
  return 0;
}

async function requestText(ctx: CtlContext, request: string): Promise<string> {
  if (request === "-") return text(ctx.io.stdin);
  if (!request.startsWith("@")) return request;
  return readFile(request.slice(1), "utf8").catch((error: Error) => {
    throw new CtlError(`cannot read the request from ${request.slice(1)}: ${error.message}`);
  });
}

/** berthctl list: every RPC name, one per line. */
export function list(ctx: CtlContext): number {
  print(ctx, rpcNames().join("\n"));
  return 0;
}

function print(ctx: CtlContext, line: string): void {
  ctx.io.stdout.write(`${line}\n`);
}
