import type { ContainerDeps } from "../container/container-deps.js";

/** What the sandbox service is given: what its containers need, and who to tell when it is destroyed. */
export interface AgentDeps extends ContainerDeps {
  /** Told when DestroySandbox has finished (as PID 1, the agent then shuts the guest down). */
  readonly onSandboxDestroyed?: () => void;
}
