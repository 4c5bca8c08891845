import type { AgentPolicy } from "../policy/agent-policy.js";
import type { Interceptor } from "./router.js";

/** Every AgentService call asks `policy` first, in one place; a call it allows at once waits for nothing. */
export function policyInterceptor(policy: AgentPolicy): Interceptor {
  return (next) => (call) => {
    const verdict = policy.check(call.method.input.name, call.request);
    return verdict === undefined ? next(call) : verdict.then(() => next(call));
  };
}
