import type { AgentService } from "../protocol/gen/agent_pb.js";
import type { ServiceImpl } from "./router.js";

/**
 * grpc.AgentService. The RPCs berth implements so far; every other one answers UNIMPLEMENTED
 * (the README lists which is which).
 */
export function agentService(): ServiceImpl<typeof AgentService.method> {
  return {};
}
