import { once } from "node:events";
import { connect, type Socket } from "node:net";
import type { AgentProcess } from "../../test/support/agent-process.js";
import { type AbuseResult, underFlood } from "./measure.js";

/** `count` connections that never send a byte, held for `holdMs` (review #12). */
export function idleConnectionFlood(agent: AgentProcess, count = 1000, holdMs = 8000): Promise<AbuseResult> {
  return underFlood(`idle connections, ${count} held ${holdMs} ms`, agent, async () => {
    const sockets: Socket[] = [];
    let closedByAgent = 0;
    for (let i = 0; i < count; i++) {
      const socket = connect(agent.socketPath);
      socket.on("error", () => {});
      socket.on("close", () => closedByAgent++);
      sockets.push(socket);
    }
    await Promise.all(sockets.map((s) => once(s, "connect").catch(() => undefined)));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const closedAtOnce = closedByAgent;
    await new Promise((resolve) => setTimeout(resolve, holdMs - 1000));
    const closedInTime = closedByAgent;
    for (const s of sockets) s.destroy();
    return { count, closedWithinASecond: closedAtOnce, closedBeforeTheClientLeft: closedInTime };
  });
}
