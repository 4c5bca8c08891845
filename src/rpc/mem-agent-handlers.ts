import { memAgentDisabled } from "../guest/mem-agent.js";
import type { AgentService } from "../protocol/gen/agent_pb.js";
import type { ServiceImpl } from "./router.js";

export function memAgentHandlers(): ServiceImpl<typeof AgentService.method> {
  return {
    memAgentMemcgSet: () => Promise.reject(memAgentDisabled()),
    memAgentCompactSet: () => Promise.reject(memAgentDisabled()),
  };
}
