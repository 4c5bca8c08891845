import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

/** One answer of runc-cycle (test/interop/go/runc-cycle): the times of the verbs it ran, in ms. */
export interface RuncTimes {
  create_ms?: number;
  start_ms?: number;
  wait_ms?: number;
  delete_ms?: number;
  run_ms?: number;
  exec_ms?: number;
  error?: string;
}

/**
 * runc-cycle started once in the agent's mount and network namespaces (nsenter), on runc state dir
 * `runcRoot` and `bundle`: the benchmarks' bare-runc baseline. `ask` sends one command and resolves with
 * its answer (a failure rejects).
 */
export function startRuncBaseline(binary: string, agentPid: number, runcRoot: string, bundle: string) {
  const child = spawn(
    "nsenter",
    [
      `--mount=/proc/${agentPid}/ns/mnt`,
      `--net=/proc/${agentPid}/ns/net`,
      binary,
      "--root",
      runcRoot,
      "--bundle",
      bundle,
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async ask(command: string): Promise<RuncTimes> {
      child.stdin.write(`${command}\n`);
      const { value, done } = await lines.next();
      if (done) throw new Error("runc-cycle exited");
      const answer = JSON.parse(value as string) as RuncTimes;
      if (answer.error) throw new Error(`runc-cycle ${command}: ${answer.error}`);
      return answer;
    },
    close: () => child.stdin.end(),
  };
}
