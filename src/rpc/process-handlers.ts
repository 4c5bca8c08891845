import { AgentError, Code } from "../errors.js";
import { lendFront } from "../protocol/bytes-reply.js";
import type { AgentService, ReadStreamRequest } from "../protocol/gen/agent_pb.js";
import type { SandboxService } from "../sandbox/sandbox-service.js";
import { processFromProto } from "./convert/spec-from-proto.js";
import type { RpcContext, ServiceImpl } from "./router.js";

export function processHandlers(sandboxes: SandboxService): ServiceImpl<typeof AgentService.method> {
  /** ReadStdout or ReadStderr: the output as it was read, its buffer lent for the reply's headers. */
  const readStream =
    (stream: "stdout" | "stderr") =>
    async (req: ReadStreamRequest, ctx: RpcContext): Promise<{ data: Uint8Array }> => {
      const { data, recycle } = await sandboxes.readStream(
        req.containerId,
        req.execId,
        stream,
        req.len,
        ctx.signal,
      );
      return { data: lendFront(data, recycle) };
    };
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
    readStdout: readStream("stdout"),
    readStderr: readStream("stderr"),
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
