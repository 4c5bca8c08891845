import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runCommand } from "./run-command.js";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const OUT = `${REPO}.cache/interop`;

export const PYTHON_GRPC_CLIENT = `${REPO}test/interop/python/grpc_health_client.py`;
export const HEALTH_PROTO = `${REPO}proto/health.proto`;

export interface GoPeers {
  /** containerd/ttrpc and grpc-go client: `health`, `call`, `bench`. */
  peer: string;
  /** The stock Go servers (containerd/ttrpc, grpc-go) serving grpc.Health. */
  baseline: string;
}

/**
 * Builds the Go interop peers from Debian packages (test/interop/go/build.sh), under a lock so test files
 * running in parallel share one build. Fails with the build's own message (naming any missing package).
 */
export async function buildGoPeers(): Promise<GoPeers> {
  mkdirSync(OUT, { recursive: true });
  const build = await runCommand(
    "flock",
    [`${OUT}.lock`, `${REPO}test/interop/go/build.sh`, OUT, HEALTH_PROTO],
    { timeoutMs: 300_000 },
  );
  if (build.code !== 0)
    throw new Error(`building the Go interop peers failed:\n${build.stderr}${build.stdout}`);
  return { peer: `${OUT}/berth-peer`, baseline: `${OUT}/berth-baseline` };
}

/**
 * Builds expfmt-parse (test/interop/go/build-expfmt.sh): Prometheus' Go text parser, the one Kata's shim and
 * kata-monitor read GetMetrics' text with. Returns its path.
 */
export async function buildExpfmtParser(): Promise<string> {
  mkdirSync(OUT, { recursive: true });
  const build = await runCommand("flock", [`${OUT}.lock`, `${REPO}test/interop/go/build-expfmt.sh`, OUT], {
    timeoutMs: 300_000,
  });
  if (build.code !== 0) throw new Error(`building expfmt-parse failed:\n${build.stderr}${build.stdout}`);
  return `${OUT}/expfmt-parse`;
}

/**
 * Builds runc-cycle (test/interop/go/build-runc-cycle.sh): bare runc driven by a small Go process, the
 * lifecycle benchmarks' baseline. Returns its path.
 */
export async function buildRuncCycle(): Promise<string> {
  mkdirSync(OUT, { recursive: true });
  const build = await runCommand(
    "flock",
    [`${OUT}.lock`, `${REPO}test/interop/go/build-runc-cycle.sh`, OUT],
    {
      timeoutMs: 300_000,
    },
  );
  if (build.code !== 0) throw new Error(`building runc-cycle failed:\n${build.stderr}${build.stdout}`);
  return `${OUT}/runc-cycle`;
}
