/**
 * npm run bench:abuse — each flood of the December reliability review against a fresh berth-agent, next to
 * the same probes on a quiet agent: the agent's RSS before, at its peak and after, and Health.Check's p99
 * and maximum on another connection during the flood. Prints one JSON line per flood, then a table checked
 * against issue 11's targets (peak under 64 MiB above the agent's RSS before the flood; no Health.Check over
 * 50 ms; every Health.Check answered). Exits 1 when a target is missed. Not part of the tests; needs root
 * (the agent runs in mount and network namespaces of its own); hold the integration lock while others run
 * tests:
 *
 *   npm run bench:abuse
 *   ABUSE=bomb,idjump ABUSE_SCALE=0.1 npm run bench:abuse   (some floods, a tenth of the size)
 */
import { type AgentProcess, startAgent } from "../test/support/agent-process.js";
import { quiet, readFlood, stdinFlood, ttyPasteFlood, waitFlood } from "./abuse/container-floods.js";
import { fuzzFlood } from "./abuse/fuzz.js";
import { idJumpFlood } from "./abuse/id-jump.js";
import { idleConnectionFlood } from "./abuse/idle-connections.js";
import type { AbuseResult } from "./abuse/measure.js";
import { paddedCallFlood } from "./abuse/padded-calls.js";
import { protobufBombFlood } from "./abuse/protobuf-bomb.js";
import { smallCallFlood } from "./abuse/small-calls.js";

const scale = Number(process.env.ABUSE_SCALE ?? 1);
const n = (count: number) => Math.max(1, Math.round(count * scale));

const PEAK_TARGET_MIB = 64;
const HEALTH_TARGET_MS = 50;

const FLOODS: Record<string, (agent: AgentProcess) => Promise<AbuseResult>> = {
  quiet: (agent) => quiet(agent),
  small: (agent) => smallCallFlood(agent, n(200_000)),
  idjump: (agent) => idJumpFlood(agent, n(100_000)),
  bomb: (agent) => protobufBombFlood(agent, n(20)),
  padded: (agent) => paddedCallFlood(agent, { calls: n(200) }),
  wait: (agent) => waitFlood(agent, n(200)),
  stdin: (agent) => stdinFlood(agent, n(250)),
  tty: (agent) => ttyPasteFlood(agent, n(20)),
  read: (agent) => readFlood(agent, n(4000)),
  idle: (agent) => idleConnectionFlood(agent, n(1000)),
  fuzz: (agent) => fuzzFlood(agent, n(1_000_000)),
};

const chosen = (process.env.ABUSE ?? Object.keys(FLOODS).join(",")).split(",");
const results: AbuseResult[] = [];
for (const name of chosen) {
  const flood = FLOODS[name];
  if (!flood)
    throw new Error(`no flood ${JSON.stringify(name)}; there are ${Object.keys(FLOODS).join(", ")}`);
  const agent = await startAgent({ netns: true, args: ["--log-level", "warn"] });
  try {
    const result = await flood(agent);
    results.push(result);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await agent.stop();
  }
}

const row = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
console.log("");
console.log(
  row(["flood", "RSS before", "peak", "after", "peak − before", "Health p99", "max", "failed", "ok"]),
);
console.log(row(Array(9).fill("---")));
let missed = false;
for (const r of results) {
  const rise = Math.round((r.rssPeakMiB - r.rssBeforeMiB) * 10) / 10;
  const ok = rise < PEAK_TARGET_MIB && r.healthMaxMs <= HEALTH_TARGET_MS && r.healthFailures === 0;
  missed ||= !ok;
  console.log(
    row([
      r.name,
      `${r.rssBeforeMiB} MiB`,
      `${r.rssPeakMiB} MiB`,
      `${r.rssAfterMiB} MiB`,
      `${rise} MiB`,
      `${r.healthP99Ms} ms`,
      `${r.healthMaxMs} ms`,
      `${r.healthFailures}/${r.healthChecks}`,
      ok ? "yes" : "NO",
    ]),
  );
}
if (missed) process.exitCode = 1;
