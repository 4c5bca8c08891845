import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import type { AgentProcess } from "../../test/support/agent-process.js";

/** What a flood did to the agent: its resident memory, and how Health.Check fared on another connection. */
export interface AbuseResult {
  name: string;
  rssBeforeMiB: number;
  rssPeakMiB: number;
  /** A second after the flood ended (its connections closed). */
  rssAfterMiB: number;
  healthChecks: number;
  healthFailures: number;
  healthP99Ms: number;
  healthMaxMs: number;
  /** What the flood itself reports (replies seen, codes, …). */
  detail: Record<string, unknown>;
}

const SAMPLE_MS = 20;

const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/** Starts the Health.Check probe (health-probe.ts) in its own process; the returned function stops it. */
function probeHealth(socketPath: string) {
  const probe = spawn(
    process.execPath,
    [fileURLToPath(new URL("./health-probe.js", import.meta.url)), socketPath],
    {
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  let out = "";
  probe.stdout.setEncoding("utf8").on("data", (text: string) => {
    out += text;
  });
  const ended = once(probe, "exit");
  return async () => {
    probe.stdin.end();
    await ended;
    const { latencies, failures } = JSON.parse(out) as { latencies: number[]; failures: number };
    return { latencies: latencies.sort((a, b) => a - b), failures };
  };
}

/** Runs `flood` against `agent` while sampling the agent's RSS and probing Health.Check on another connection. */
export async function underFlood(
  name: string,
  agent: AgentProcess,
  flood: () => Promise<Record<string, unknown>>,
): Promise<AbuseResult> {
  const rssBefore = agent.rssKiB();
  let peak = rssBefore;
  const sampler = setInterval(() => {
    peak = Math.max(peak, agent.rssKiB());
  }, SAMPLE_MS);
  const stopProbe = probeHealth(agent.socketPath);
  let detail: Record<string, unknown>;
  try {
    detail = await flood();
  } finally {
    clearInterval(sampler);
  }
  const { latencies, failures } = await stopProbe();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return {
    name,
    rssBeforeMiB: mib(rssBefore),
    rssPeakMiB: mib(Math.max(peak, agent.rssKiB())),
    rssAfterMiB: mib(agent.rssKiB()),
    healthChecks: latencies.length,
    healthFailures: failures,
    healthP99Ms: Math.round(percentile(latencies, 99)),
    healthMaxMs: Math.round(latencies.at(-1) ?? Number.NaN),
    detail,
  };
}
