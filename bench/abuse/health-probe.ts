/**
 * The Health.Check probe of the abuse floods, in a process of its own: the flood's client (in the bench's
 * process) builds and writes megabytes at a time, and a probe sharing its event loop would time the
 * client's stalls, not the agent's. Probes `argv[2]` one call after another, a fresh 5 s call every 20 ms,
 * until its stdin closes; then prints `{ latencies, failures }` as JSON.
 */
import { connectTtrpc, type TtrpcClient } from "../../src/protocol/ttrpc/client.js";

const SAMPLE_MS = 20;
const socketPath = process.argv[2] ?? "";
const latencies: number[] = [];
let failures = 0;
let running = true;
process.stdin.on("end", () => {
  running = false;
});
process.stdin.resume();

let client: TtrpcClient | undefined;
while (running) {
  const start = performance.now();
  try {
    client ??= await connectTtrpc(socketPath);
    await client.call("grpc.Health", "Check", new Uint8Array(0), { timeoutMs: 5000 });
  } catch {
    failures++;
    client?.close();
    client = undefined;
  }
  latencies.push(performance.now() - start);
  await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
}
client?.close();
process.stdout.write(JSON.stringify({ latencies, failures }));
