import type { Socket } from "node:net";
import type { GuestService } from "./guest/guest-service.js";
import type { Logger } from "./log.js";
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
import { routeService } from "./rpc/router.js";
import type { SandboxService } from "./sandbox/sandbox-service.js";
import type { ListenAddress } from "./transport/address.js";
import { listen } from "./transport/listener.js";

export interface AgentServerOptions {
  address: ListenAddress;
  /** Serve only this protocol; by default each connection is served in the protocol it speaks. */
  protocol?: WireProtocol | undefined;
  log: Logger;
  sandboxes: SandboxService;
  guest: GuestService;
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
function lazyGrpc(services: readonly RawService[], log: Logger) {
  let server: Promise<GrpcServer> | undefined;
  return {
    serve(socket: Socket) {
      server ??= import("./protocol/grpc/server.js").then((m) =>
        m.createGrpcServer(services, {
          statusFromError,
          cancelled: new TtrpcError(Code.CANCELLED, "the gRPC call was cancelled or its deadline passed"),
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
  const { log } = options;
  const interceptors = [loggingInterceptor(log)];
  const services = [
    routeService(Health, healthService(), interceptors),
    routeService(AgentService, agentService(options.sandboxes, options.guest), interceptors),
  ];
  const protocolLog = log.child({ subsystem: "ttrpc" });
  const ttrpc = new TtrpcServer({
    statusFromError,
    log: (level, msg, fields) => protocolLog[level](fields, msg),
  });
  registerTtrpcServices(ttrpc, services);
  const grpc = lazyGrpc(services, log);
  const dispatch = createProtocolDispatcher(
    { ttrpc: (socket) => ttrpc.serveConnection(socket), grpc: (socket) => grpc.serve(socket) },
    options.protocol,
  );
  const listener = await listen(options.address, dispatch);
  return {
    address: options.address,
    stopAccepting: () => listener.close(),
    async close(graceMs = 0) {
      await listener.close();
      const grpcServer = await grpc.close(graceMs);
      await ttrpc.shutdown(graceMs);
      grpcServer?.injector.destroy();
      grpcServer?.server.forceShutdown();
    },
  };
}
