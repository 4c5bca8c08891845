import { encodeFrame, MessageType } from "../../src/protocol/ttrpc/frame.js";
import type { AgentProcess } from "../../test/support/agent-process.js";
import { type AbuseResult, underFlood } from "./measure.js";
import { RawPeer } from "./raw-peer.js";

/** `frames` empty request frames whose stream ids step by `step` (review #9). */
export function idJumpFlood(agent: AgentProcess, frames = 100_000, step = 4098): Promise<AbuseResult> {
  return underFlood(`id jump, ${frames} frames stepping by ${step}`, agent, async () => {
    const peer = await RawPeer.open(agent.socketPath);
    const empty = new Uint8Array(0);
    const batch: Buffer[] = [];
    for (let i = 0, id = 1; i < frames && id <= 0xffff_ffff; i++, id += step) {
      batch.push(encodeFrame(id, MessageType.REQUEST, 0, empty));
      if (batch.length === 1000) await peer.write(Buffer.concat(batch.splice(0)));
    }
    if (batch.length > 0) await peer.write(Buffer.concat(batch));
    await peer.waitForReplies(frames, 120_000);
    peer.close();
    return peer.summary();
  });
}
