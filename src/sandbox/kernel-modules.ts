import { AgentError, Code } from "../errors.js";
import { runCommand } from "../sys/exec.js";

export interface KernelModuleSpec {
  name: string;
  parameters: readonly string[];
}

const MODULE_NAME = /^\w[\w-]{0,63}$/;
const PARAMETER = /^\w[\w.-]*(=[^\s\0]*)?$/;

/** Loads each module with modprobe and its parameters, in order; the first failure fails the call. */
export async function loadKernelModules(modules: readonly KernelModuleSpec[]) {
  for (const m of modules) {
    if (!MODULE_NAME.test(m.name)) {
      throw new AgentError(
        Code.INVALID_ARGUMENT,
        `kernel module name ${JSON.stringify(m.name)} is not valid`,
      );
    }
    const bad = m.parameters.find((p) => !PARAMETER.test(p));
    if (bad !== undefined) {
      throw new AgentError(
        Code.INVALID_ARGUMENT,
        `kernel module ${m.name}: parameter ${JSON.stringify(bad)} is not name or name=value`,
      );
    }
    await runCommand(["modprobe", "-v", m.name, ...m.parameters], { timeoutMs: 30_000 });
  }
}
