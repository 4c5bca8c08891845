import { type Health, HealthCheckResponse_ServingStatus } from "../protocol/gen/health_pb.js";
import { AGENT_VERSION, API_VERSION } from "../version.js";
import type { ServiceImpl } from "./router.js";

/** grpc.Health: the host's liveness probe. berth answers SERVING whenever it can answer at all, as Kata does. */
export function healthService(): ServiceImpl<typeof Health.method> {
  return {
    check: () => ({ status: HealthCheckResponse_ServingStatus.SERVING }),
    version: () => ({ grpcVersion: API_VERSION, agentVersion: AGENT_VERSION }),
  };
}
