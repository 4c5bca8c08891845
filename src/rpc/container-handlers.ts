import type { AgentService } from "../protocol/gen/agent_pb.js";
import type { SandboxService } from "../sandbox/sandbox-service.js";
import { ociSpecFromProto } from "./convert/spec-from-proto.js";
import { statsResponseFromStats } from "./convert/stats-to-proto.js";
import type { ServiceImpl } from "./router.js";

export function containerHandlers(sandboxes: SandboxService): ServiceImpl<typeof AgentService.method> {
  return {
    createContainer: async (req, ctx) => {
      await sandboxes.createContainer({ ...req, spec: req.OCI && ociSpecFromProto(req.OCI) }, ctx.signal);
      return {};
    },
    startContainer: async (req, ctx) => {
      await sandboxes.startContainer(req.containerId, ctx.signal);
      return {};
    },
    statsContainer: async (req) => statsResponseFromStats(await sandboxes.statsContainer(req.containerId)),
    getDiagnosticData: async (req) => ({
      data: await sandboxes.diagnosticData(req.containerId, req.logType),
    }),
    removeContainer: async (req) => {
      await sandboxes.removeContainer(req.containerId, req.timeout);
      return {};
    },
  };
}
