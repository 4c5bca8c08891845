import type { GuestService } from "../guest/guest-service.js";
import type { GuestMetrics } from "../metrics/guest-metrics.js";
import type { AgentService } from "../protocol/gen/agent_pb.js";
import type { SandboxService } from "../sandbox/sandbox-service.js";
import { containerHandlers } from "./container-handlers.js";
import { controlHandlers } from "./control-handlers.js";
import { guestHandlers } from "./guest-handlers.js";
import { metricsHandlers } from "./metrics-handlers.js";
import { type NetworkDeps, networkHandlers } from "./network-handlers.js";
import { oomHandlers } from "./oom-handlers.js";
import { processHandlers } from "./process-handlers.js";
import type { ServiceImpl } from "./router.js";
import { sandboxHandlers } from "./sandbox-handlers.js";

/**
 * grpc.AgentService. The RPCs berth implements so far; every other one answers UNIMPLEMENTED
 * (the README lists which is which).
 */
export function agentService(
  sandboxes: SandboxService,
  guest: GuestService,
  network: NetworkDeps,
  metrics: GuestMetrics,
): ServiceImpl<typeof AgentService.method> {
  return {
    ...sandboxHandlers(sandboxes),
    ...containerHandlers(sandboxes),
    ...processHandlers(sandboxes),
    ...guestHandlers(guest),
    ...networkHandlers(network),
    ...oomHandlers(sandboxes),
    ...controlHandlers(sandboxes),
    ...metricsHandlers(metrics),
  };
}
