/**
 * Floods a fresh berth-agent with each abuse of the protocol layer in turn (bench/abuse/*.ts) and prints,
 * for each, the agent's RSS before, at its peak and after, and Health.Check's p99 on another connection
 * during the flood, one JSON line each. Not part of the tests. Needs root (the agent runs in a mount
 * namespace of its own); hold the integration lock while others run tests:
 *
 *   npm run build && flock /tmp/berth-integration.lock node dist/bench/abuse-protocol.js
 *   ABUSE=bomb,idjump ABUSE_SCALE=0.1 node dist/bench/abuse-protocol.js   (some floods, a tenth of the size)
 */
import { type AgentProcess, startAgent } from "../test/support/agent-process.js";
import { fuzzFlood } from "./abuse/fuzz.js";
import { idJumpFlood } from "./abuse/id-jump.js";
import { idleConnectionFlood } from "./abuse/idle-connections.js";
import type { AbuseResult } from "./abuse/measure.js";
import { paddedCallFlood } from "./abuse/padded-calls.js";
import { protobufBombFlood } from "./abuse/protobuf-bomb.js";
import { smallCallFlood } from "./abuse/small-calls.js";

const scale = Number(process.env.ABUSE_SCALE ?? 1);
const n = (count: number) => Math.max(1, Math.round(count * scale));

const FLOODS: Record<string, (agent: AgentProcess) => Promise<AbuseResult>> = {
  small: (agent) => smallCallFlood(agent, n(200_000)),
  idjump: (agent) => idJumpFlood(agent, n(100_000)),
  bomb: (agent) => protobufBombFlood(agent, n(20)),
  padded: (agent) => paddedCallFlood(agent, { calls: n(200) }),
  idle: (agent) => idleConnectionFlood(agent, n(1000)),
  fuzz: (agent) => fuzzFlood(agent, n(1_000_000)),
};

const chosen = (process.env.ABUSE ?? Object.keys(FLOODS).join(",")).split(",");
for (const name of chosen) {
  const flood = FLOODS[name];
  if (!flood)
    throw new Error(`no flood ${JSON.stringify(name)}; there are ${Object.keys(FLOODS).join(", ")}`);
  const agent = await startAgent({ args: ["--log-level", "warn"] });
  try {
    process.stdout.write(`${JSON.stringify(await flood(agent))}\n`);
  } finally {
    await agent.stop();
  }
}
