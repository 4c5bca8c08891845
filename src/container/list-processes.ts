import { AgentError, Code } from "../errors.js";
import type { OciRuntime } from "../runtime/oci-runtime.js";
import { CommandError, runCommand } from "../sys/exec.js";
import { psTableOf } from "./ps-table.js";

const MAX_ARGS = 64;
const MAX_ARG_LENGTH = 4096;
/** ps of a whole guest; far more than any guest's process table prints. */
const MAX_PS_OUTPUT = 16 << 20;

/**
 * ListProcesses (Kata 1.x): the processes of container `id`, by pid as the agent sees them (runc ps).
 * "json": a JSON array of the pids. "table": `ps` run with `args` (default -ef) as argv, its header and
 * the lines of those pids. INVALID_ARGUMENT for another format or unusable args; FAILED_PRECONDITION
 * when the guest has no `ps`.
 */
export async function listProcesses(
  runc: Pick<OciRuntime, "pids">,
  id: string,
  format: string,
  args: readonly string[],
): Promise<Uint8Array> {
  if (format !== "table" && format !== "json") {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      `ListProcesses format ${JSON.stringify(format)} is neither "table" nor "json"`,
    );
  }
  checkPsArgs(args);
  const pids = await runc.pids(id);
  if (format === "json") return new TextEncoder().encode(JSON.stringify(pids));
  return new TextEncoder().encode(psTableOf(await ps(args.length > 0 ? args : ["-ef"]), pids));
}

function checkPsArgs(args: readonly string[]) {
  if (args.length > MAX_ARGS) {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      `ListProcesses: ${args.length} ps arguments, more than ${MAX_ARGS}`,
    );
  }
  const bad = args.find((a) => a.length > MAX_ARG_LENGTH || a.includes("\0"));
  if (bad !== undefined) {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      `ListProcesses: ps argument ${JSON.stringify(bad.slice(0, 80))} holds a NUL or is over ${MAX_ARG_LENGTH} characters`,
    );
  }
}

async function ps(args: readonly string[]): Promise<string> {
  try {
    return (await runCommand(["ps", ...args], { timeoutMs: 10_000, maxOutputBytes: MAX_PS_OUTPUT })).stdout;
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    if (error.exitCode === null && error.signal === null && error.code === Code.NOT_FOUND) {
      throw new AgentError(
        Code.FAILED_PRECONDITION,
        'ListProcesses format "table" runs ps, and the guest has none on its PATH (format "json" needs no ps)',
        { cause: error },
      );
    }
    if (error.exitCode !== null) {
      throw new AgentError(Code.INVALID_ARGUMENT, `ListProcesses: ${error.message}`, { cause: error });
    }
    throw error;
  }
}
