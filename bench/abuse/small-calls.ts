import type { AgentProcess } from "../../test/support/agent-process.js";
import { type AbuseResult, underFlood } from "./measure.js";
import { RawPeer, requestFrame } from "./raw-peer.js";

/** `calls` Health.Checks on one connection that never reads a reply (review #7: replies nobody reads). */
export function smallCallFlood(agent: AgentProcess, calls = 200_000): Promise<AbuseResult> {
  return underFlood("small-call flood, replies unread", agent, async () => {
    const peer = await RawPeer.open(agent.socketPath, false);
    const batch: Buffer[] = [];
    let sent = 0;
    let agentStoppedReading = false;
    for (let id = 1; sent < calls && !agentStoppedReading; id += 2) {
      batch.push(requestFrame(id, "grpc.Health", "Check", new Uint8Array(0)));
      sent++;
      if (batch.length === 1000 || sent === calls)
        agentStoppedReading = !(await peer.write(Buffer.concat(batch.splice(0))));
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const unread = peer.socket.writableLength;
    peer.close();
    return { calls, sent, agentStoppedReading, bytesTheAgentLeftUnread: unread };
  });
}
