import { AgentError, Code } from "../errors.js";
import { lendFront } from "../protocol/bytes-reply.js";
import type { AgentService } from "../protocol/gen/agent_pb.js";
import type { SandboxService } from "../sandbox/sandbox-service.js";
import { processFromProto } from "./convert/spec-from-proto.js";
import type { ServiceImpl } from "./router.js";

export function processHandlers(sandboxes: SandboxService): ServiceImpl<typeof AgentService.method> {
  return {
    execProcess: async (req, ctx) => {
      if (!req.process) throw new AgentError(Code.INVALID_ARGUMENT, "ExecProcess without a process");
      await sandboxes.execProcess(req.containerId, req.execId, processFromProto(req.process), ctx.signal);
      return {};
    },
    waitProcess: async (req, ctx) => ({
      status: await sandboxes.waitProcess(req.containerId, req.execId, ctx.signal),
    }),
    signalProcess: async (req) => {
      await sandboxes.signalProcess(req.containerId, req.execId, req.signal);
      return {};
    },
    readStdout: async (req, ctx) => {
      const { data, recycle } = await sandboxes.readStream(
        req.containerId,
        req.execId,
        "stdout",
        req.len,
        ctx.signal,
      );
      return { data: lendFront(data, recycle) };
    },
    readStderr: async (req, ctx) => {
      const { data, recycle } = await sandboxes.readStream(
        req.containerId,
        req.execId,
        "stderr",
        req.len,
        ctx.signal,
      );
      return { data: lendFront(data, recycle) };
    },
    writeStdin: async (req, ctx) => ({
      len: await sandboxes.writeStdin(req.containerId, req.execId, req.data, ctx.signal),
    }),
    closeStdin: async (req, ctx) => {
      await sandboxes.closeStdin(req.containerId, req.execId, ctx.signal);
      return {};
    },
    ttyWinResize: (req) => {
      sandboxes.ttyWinResize(req.containerId, req.execId, req.row, req.column);
      return {};
    },
  };
}
