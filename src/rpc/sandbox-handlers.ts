import type { AgentService } from "../protocol/gen/agent_pb.js";
import type { SandboxService } from "../sandbox/sandbox-service.js";
import type { ServiceImpl } from "./router.js";

export function sandboxHandlers(sandboxes: SandboxService): ServiceImpl<typeof AgentService.method> {
  return {
    createSandbox: async (req) => {
      await sandboxes.createSandbox(req);
      return {};
    },
    destroySandbox: async () => {
      await sandboxes.destroySandbox();
      return {};
    },
  };
}
