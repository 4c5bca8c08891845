import type { GuestMetrics } from "../metrics/guest-metrics.js";
import type { AgentService } from "../protocol/gen/agent_pb.js";
import type { ServiceImpl } from "./router.js";

export function metricsHandlers(metrics: GuestMetrics): ServiceImpl<typeof AgentService.method> {
  return {
    getMetrics: async () => ({ metrics: await metrics.scrape() }),
  };
}
