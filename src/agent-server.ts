import type { Socket } from "node:net";
import { AgentError, Code as ErrorCode } from "./errors.js";
import type { GuestService } from "./guest/guest-service.js";
import type { Logger } from "./log.js";
import type { GuestMetrics } from "./metrics/guest-metrics.js";
import { type AgentPolicy, NO_POLICY } from "./policy/agent-policy.js";
import { createProtocolDispatcher, type WireProtocol } from "./protocol/dispatch.js";
import { AgentService } from "./protocol/gen/agent_pb.js";
import { Health } from "./protocol/gen/health_pb.js";
import type { GrpcServer } from "./protocol/grpc/server.js";
import type { RawService } from "./protocol/raw-service.js";
import { statusFromError } from "./protocol/status.js";
import { Code } from "./protocol/ttrpc/code.js";
import { TtrpcServer } from "./protocol/ttrpc/server.js";
import { TtrpcError } from "./protocol/ttrpc/status.js";
import { registerTtrpcServices } from "./protocol/ttrpc-adapter.js";
import { agentService } from "./rpc/agent-service.js";
import { healthService } from "./rpc/health-service.js";
import { loggingInterceptor } from "./rpc/logging-interceptor.js";
import type { NetworkDeps } from "./rpc/network-handlers.js";
import { policyInterceptor } from "./rpc/policy-interceptor.js";
import { DEFAULT_DECODE_LIMITS, routeService } from "./rpc/router.js";
import type { SandboxService } from "./sandbox/sandbox-service.js";
import type { StorageService } from "./storage/storage-service.js";
import { ByteBudget } from "./sys/byte-budget.js";
import type { ListenAddress } from "./transport/address.js";
import { listen } from "./transport/listener.js";
import { listenSerial } from "./transport/serial-listener.js";

/**
 * The two counts of bytes every connection, ttrpc and gRPC alike, shares: what calls in flight hold of
 * their requests (payloads, decoded messages, each call's state), and replies not yet taken by a socket.
 * Whatever else lets bytes wait for a peer takes them from `replies` first: a ReadStdout reader takes
 * before it reads from the pipe, so output stays there while the host does not read.
 */
export interface RpcBudgets {
  readonly requests: ByteBudget;
  readonly replies: ByteBudget;
}

export function createRpcBudgets(limits: { requestBytes: number; replyBytes: number }): RpcBudgets {
  return { requests: new ByteBudget(limits.requestBytes), replies: new ByteBudget(limits.replyBytes) };
}

export interface AgentServerOptions {
  address: ListenAddress;
  /** Serve only this protocol; by default each connection is served in the protocol it speaks. */
  protocol?: WireProtocol | undefined;
  log: Logger;
  sandboxes: SandboxService;
  guest: GuestService;
  network: NetworkDeps;
  storage: StorageService;
  metrics: GuestMetrics;
  budgets: RpcBudgets;
  /** Asked before every AgentService call (Health's are never checked, as in Kata); none by default. */
  policy?: AgentPolicy | undefined;
}

export interface AgentServer {
  readonly address: ListenAddress;
  /** Stops accepting connections; those open are served on. */
  stopAccepting(): Promise<void>;
  /** Stops listening, gives calls in flight up to `graceMs` to finish, then closes every connection. */
  close(graceMs?: number): Promise<void>;
}

/**
 * The gRPC server (Kata 1.x) starts on its first connection: hosts that speak only ttrpc (Kata 2.x and
 * later) never load HTTP/2 and grpc-js.
 */
function lazyGrpc(services: readonly RawService[], budgets: RpcBudgets, log: Logger) {
  let server: Promise<GrpcServer> | undefined;
  return {
    serve(socket: Socket) {
      server ??= import("./protocol/grpc/server.js").then((m) =>
        m.createGrpcServer(services, {
          statusFromError,
          cancelled: new TtrpcError(Code.CANCELLED, "the gRPC call was cancelled or its deadline passed"),
          requestBudget: budgets.requests,
          replyBudget: budgets.replies,
        }),
      );
      server.then(
        (s) => s.injector.injectConnection(socket),
        (error: unknown) => {
          log.error(
            { subsystem: "grpc", err: error },
            "cannot start the gRPC server; closing the connection",
          );
          socket.destroy();
        },
      );
    },
    async close(graceMs: number) {
      const s = await server?.catch(() => undefined);
      s?.injector.drain(graceMs);
      return s;
    },
  };
}

/** Serves grpc.Health and grpc.AgentService over ttrpc and gRPC on one address. */
export async function startAgentServer(options: AgentServerOptions): Promise<AgentServer> {
  const { log, budgets } = options;
  const policy = options.policy ?? NO_POLICY;
  const logging = loggingInterceptor(log);
  const limits = { ...DEFAULT_DECODE_LIMITS, budget: budgets.requests };
  const services = [
    routeService(Health, healthService(), [logging], limits),
    routeService(
      AgentService,
      agentService({ ...options, policy }),
      [logging, policyInterceptor(policy)],
      limits,
    ),
  ];
  const protocolLog = log.child({ subsystem: "ttrpc" });
  const ttrpc = new TtrpcServer({
    statusFromError,
    log: (level, msg, fields) => protocolLog[level](fields, msg),
    requestBudget: budgets.requests,
    replyBudget: budgets.replies,
  });
  registerTtrpcServices(ttrpc, services);
  const grpc = lazyGrpc(services, budgets, log);
  const transportLog = log.child({ subsystem: "transport" });
  const transport = (level: "debug" | "warn", msg: string, fields: Record<string, unknown>) =>
    transportLog[level](fields, msg);
  const { address } = options;
  let listener: { stopAccepting(): Promise<void>; close(): Promise<void> };
  if (address.kind === "serial") {
    if (options.protocol === "grpc") {
      throw new AgentError(ErrorCode.INVALID_ARGUMENT, "a serial port carries ttrpc only, not gRPC");
    }
    listener = await listenSerial(address.name, (stream) => ttrpc.serveConnection(stream), {
      log: transport,
    });
  } else {
    const dispatch = createProtocolDispatcher(
      { ttrpc: (socket) => ttrpc.serveConnection(socket), grpc: (socket) => grpc.serve(socket) },
      { only: options.protocol, log: (msg, fields) => transportLog.debug(fields, msg) },
    );
    const socket = await listen(address, dispatch, { log: transport });
    listener = { stopAccepting: () => socket.close(), close: () => socket.close() };
  }
  return {
    address: options.address,
    stopAccepting: () => listener.stopAccepting(),
    async close(graceMs = 0) {
      await listener.stopAccepting();
      const grpcServer = await grpc.close(graceMs);
      await ttrpc.shutdown(graceMs);
      grpcServer?.injector.destroy();
      grpcServer?.server.forceShutdown();
      // A serial port's session outlives its connections until their last bytes are out.
      await listener.close();
    },
  };
}
