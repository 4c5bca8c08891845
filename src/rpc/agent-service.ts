import type { GuestService } from "../guest/guest-service.js";
import type { GuestMetrics } from "../metrics/guest-metrics.js";
import type { AgentPolicy } from "../policy/agent-policy.js";
import type { AgentService } from "../protocol/gen/agent_pb.js";
import type { SandboxService } from "../sandbox/sandbox-service.js";
import type { StorageService } from "../storage/storage-service.js";
import { containerHandlers } from "./container-handlers.js";
import { controlHandlers } from "./control-handlers.js";
import { guestHandlers } from "./guest-handlers.js";
import { memAgentHandlers } from "./mem-agent-handlers.js";
import { metricsHandlers } from "./metrics-handlers.js";
import { type NetworkDeps, networkHandlers } from "./network-handlers.js";
import { oomHandlers } from "./oom-handlers.js";
import { policyHandlers } from "./policy-handlers.js";
import { processHandlers } from "./process-handlers.js";
import type { ServiceImpl } from "./router.js";
import { sandboxHandlers } from "./sandbox-handlers.js";
import { storageHandlers } from "./storage-handlers.js";

/** What the AgentService handlers call: one domain service each. */
export interface AgentServiceParts {
  readonly sandboxes: SandboxService;
  readonly guest: GuestService;
  readonly network: NetworkDeps;
  readonly storage: StorageService;
  readonly policy: AgentPolicy;
  readonly metrics: GuestMetrics;
}

/** grpc.AgentService: every RPC of Kata 4.x (the README says how each one answers). */
export function agentService({
  sandboxes,
  guest,
  network,
  storage,
  policy,
  metrics,
}: AgentServiceParts): ServiceImpl<typeof AgentService.method> {
  return {
    ...sandboxHandlers(sandboxes),
    ...containerHandlers(sandboxes),
    ...processHandlers(sandboxes),
    ...guestHandlers(guest),
    ...networkHandlers(network),
    ...oomHandlers(sandboxes),
    ...controlHandlers(sandboxes),
    ...policyHandlers(policy),
    ...memAgentHandlers(),
    ...storageHandlers(storage),
    ...metricsHandlers(metrics),
  };
}
