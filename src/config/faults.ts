import { AgentError, Code } from "../errors.js";

/**
 * Failure injection for rollback tests: `BERTH_TEST_FAULTS=create-container:bundle,create-sandbox:dns`
 * makes the named steps fail as if the system had refused them. Unset (as in production), it does nothing.
 */
export interface Faults {
  /** Throws when `step` is set to fail. */
  check(step: string): void;
}

export const noFaults: Faults = { check() {} };

export function faultsFromEnv(env: Readonly<Record<string, string | undefined>>): Faults {
  const steps = new Set((env.BERTH_TEST_FAULTS ?? "").split(",").filter(Boolean));
  if (steps.size === 0) return noFaults;
  return {
    check(step) {
      if (steps.has(step)) throw new AgentError(Code.INTERNAL, `injected failure at ${step}`);
    },
  };
}
