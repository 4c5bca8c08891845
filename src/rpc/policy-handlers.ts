import type { AgentPolicy } from "../policy/agent-policy.js";
import type { AgentService } from "../protocol/gen/agent_pb.js";
import type { ServiceImpl } from "./router.js";

export function policyHandlers(policy: AgentPolicy): ServiceImpl<typeof AgentService.method> {
  return {
    setPolicy: async (req) => {
      await policy.replace(req.policy);
      return {};
    },
  };
}
