import type { AgentProcess } from "../../test/support/agent-process.js";
import { type AbuseResult, underFlood } from "./measure.js";
import { RawPeer, requestFrame } from "./raw-peer.js";

/** A 4 MiB CreateContainerRequest of two million empty storages (review #8): two bytes each on the wire. */
export function storageBomb(): Uint8Array {
  const count = Math.floor(((4 << 20) - 200) / 2);
  const payload = new Uint8Array(4 + count * 2);
  payload.set([0x0a, 2, 0x63, 0x31]);
  for (let i = 4; i < payload.length; i += 2) payload[i] = 0x2a;
  return payload;
}

/** `requests` storage bombs on one connection. */
export function protobufBombFlood(agent: AgentProcess, requests = 20): Promise<AbuseResult> {
  return underFlood(`protobuf bomb, ${requests} CreateContainers of 2M empty storages`, agent, async () => {
    const peer = await RawPeer.open(agent.socketPath);
    const bomb = storageBomb();
    for (let i = 0; i < requests; i++)
      await peer.write(requestFrame(1 + 2 * i, "grpc.AgentService", "CreateContainer", bomb));
    await peer.waitForReplies(requests, 120_000);
    peer.close();
    return peer.summary();
  });
}
