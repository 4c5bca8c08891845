import type { AgentService } from "../protocol/gen/agent_pb.js";
import type { SandboxService } from "../sandbox/sandbox-service.js";
import type { ServiceImpl } from "./router.js";

export function oomHandlers(sandboxes: SandboxService): ServiceImpl<typeof AgentService.method> {
  return {
    getOOMEvent: async (_req, ctx) => ({ containerId: await sandboxes.nextOomEvent(ctx.signal) }),
  };
}
