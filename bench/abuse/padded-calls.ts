import type { AgentProcess } from "../../test/support/agent-process.js";
import { AgentRpc } from "../../test/support/agent-rpc.js";
import { type AbuseResult, underFlood } from "./measure.js";
import { RawPeer, requestFrame } from "./raw-peer.js";

/** An empty request padded to `total` bytes with an unknown length-delimited field 15. */
export function paddedRequest(total: number, prefix: Uint8Array = new Uint8Array(0)): Uint8Array {
  const length = total - prefix.length - 5;
  const out = new Uint8Array(total).fill(0x62);
  out.set(prefix);
  out.set(
    [
      0x7a,
      (length & 0x7f) | 0x80,
      ((length >>> 7) & 0x7f) | 0x80,
      ((length >>> 14) & 0x7f) | 0x80,
      length >>> 21,
    ],
    prefix.length,
  );
  return out;
}

export interface PaddedCallOptions {
  calls?: number;
  /** Bytes per request (default just under 4 MiB). */
  size?: number;
  /**
   * The blocking method and the fields before its padding. Default GetOOMEvent, which blocks with a sandbox
   * alone; WaitProcess (review #7's) needs a container and its id and exec id as `prefix`.
   */
  method?: string;
  prefix?: Uint8Array;
}

/** Blocking calls, each padded with megabytes of an unknown field (review #7); a sandbox is created first. */
export async function paddedCallFlood(
  agent: AgentProcess,
  options: PaddedCallOptions = {},
): Promise<AbuseResult> {
  const { calls = 200, size = (4 << 20) - 100, method = "GetOOMEvent", prefix } = options;
  const rpc = await AgentRpc.connect(agent.socketPath);
  try {
    if (method === "GetOOMEvent") await rpc.call("createSandbox", { sandboxId: "abuse", hostname: "abuse" });
    return await underFlood(`padded ${method}, ${calls} × ${size} bytes`, agent, async () => {
      const peer = await RawPeer.open(agent.socketPath);
      const request = paddedRequest(size, prefix);
      for (let i = 0; i < calls; i++)
        await peer.write(requestFrame(1 + 2 * i, "grpc.AgentService", method, request));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const summary = peer.summary();
      peer.close();
      return { ...summary, stillBlocked: calls - peer.replies };
    });
  } finally {
    if (method === "GetOOMEvent") await rpc.call("destroySandbox", {}).catch(() => undefined);
    rpc.close();
  }
}
