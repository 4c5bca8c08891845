import type { AgentService } from "../protocol/gen/agent_pb.js";
import type { SandboxService } from "../sandbox/sandbox-service.js";
import { resourcesFromProto } from "./convert/spec-from-proto.js";
import type { ServiceImpl } from "./router.js";

/** Pausing, resuming and updating a running container, and listing its processes. */
export function controlHandlers(sandboxes: SandboxService): ServiceImpl<typeof AgentService.method> {
  return {
    pauseContainer: async (req) => {
      await sandboxes.pauseContainer(req.containerId);
      return {};
    },
    resumeContainer: async (req) => {
      await sandboxes.resumeContainer(req.containerId);
      return {};
    },
    updateContainer: async (req) => {
      await sandboxes.updateContainer(req.containerId, req.resources && resourcesFromProto(req.resources));
      return {};
    },
    listProcesses: async (req) => ({
      processList: await sandboxes.listProcesses(req.containerId, req.format, req.args),
    }),
  };
}
