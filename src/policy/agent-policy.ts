import type { Message } from "@bufbuild/protobuf";
import { AgentError, Code } from "../errors.js";

/**
 * What decides whether an AgentService call may run, asked before its handler with the call's entry point
 * (the request message's name, as Kata's policies name them: "CreateContainerRequest") and its request.
 * A denial throws (PERMISSION_DENIED); undefined, or a Promise that fulfils, lets the call run.
 */
export interface AgentPolicy {
  check(entrypoint: string, request: Message): undefined | Promise<void>;
  /** SetPolicy: replaces the policy with the Rego text `policy`, if the current one allows it. */
  replace(policy: string): Promise<void>;
}

/**
 * berth has no policy engine yet: every call runs, as with a Kata agent built without `agent-policy`, and
 * SetPolicy is refused with that agent's answer, so a pod whose host asks for a policy fails to start
 * rather than run unenforced.
 */
export const NO_POLICY: AgentPolicy = {
  check: () => undefined,
  replace: () =>
    Promise.reject(new AgentError(Code.NOT_FOUND, "/grpc.AgentService/SetPolicy is not supported")),
};
