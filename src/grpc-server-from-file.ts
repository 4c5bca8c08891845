import { createRequire } from "node:module";
import { join } from "node:path";
import type * as GrpcServerModule from "./protocol/grpc/server.js";
import { packageDir } from "./sys/native.js";

/**
 * What the agent's start-up snapshot has in place of ./protocol/grpc/server.js (scripts/bundle.mjs swaps them): the same
 * function, loaded from dist/bin/berth-grpc.cjs at the first gRPC connection, so grpc-js (0.7 MB of the
 * snapshot, twice that resident) stays out of an agent that only ever speaks ttrpc.
 */
export const createGrpcServer: typeof GrpcServerModule.createGrpcServer = (services, options) => {
  const file = join(packageDir(), "dist", "bin", "berth-grpc.cjs");
  const server = createRequire(file)(file) as typeof GrpcServerModule;
  return server.createGrpcServer(services, options);
};
