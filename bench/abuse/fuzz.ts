import type { AgentProcess } from "../../test/support/agent-process.js";
import { createPrng } from "../../test/support/prng.js";
import { fuzzedFrame } from "../../test/support/ttrpc-fuzz-frames.js";
import { type AbuseResult, underFlood } from "./measure.js";
import { RawPeer } from "./raw-peer.js";

const FRAMES_PER_CONNECTION = 2000;
const PARALLEL = 4;

/** `frames` random and mutated frames over short-lived connections, four at a time, as the fuzz test sends. */
export function fuzzFlood(
  agent: AgentProcess,
  frames = 1_000_000,
  seed = Date.now() % 0x1_0000_0000,
): Promise<AbuseResult> {
  return underFlood(`fuzz, ${frames} frames (seed ${seed})`, agent, async () => {
    const rng = createPrng(seed);
    let sent = 0;
    let replies = 0;
    const connection = async (count: number, connectionSeed: number) => {
      const local = createPrng(connectionSeed);
      const peer = await RawPeer.open(agent.socketPath);
      let batch: Buffer[] = [];
      let bytes = 0;
      for (let i = 0, id = 1; i < count && !peer.socket.destroyed; i++, id += 2) {
        const frame = fuzzedFrame(local, local.int(10) === 0 ? local.int(0x1_0000_0000) : id);
        batch.push(frame);
        bytes += frame.length;
        if (bytes > 32 << 10) {
          await peer.write(Buffer.concat(batch));
          batch = [];
          bytes = 0;
        }
      }
      if (batch.length > 0) await peer.write(Buffer.concat(batch));
      await new Promise((resolve) => setTimeout(resolve, 20));
      replies += peer.replies;
      peer.close();
    };
    while (sent < frames) {
      const round: Promise<void>[] = [];
      for (let c = 0; c < PARALLEL && sent < frames; c++) {
        const count = Math.min(FRAMES_PER_CONNECTION, frames - sent);
        sent += count;
        round.push(connection(count, rng.int(0x1_0000_0000)));
      }
      await Promise.all(round);
    }
    return { seed, frames: sent, replies };
  });
}
