import type { AgentClient } from "./agent-client.js";
import type { CtlIo } from "./ctl-io.js";

/** What a command gets: the streams, the environment, --json, and a way to reach the agent. */
export interface CtlContext {
  io: CtlIo;
  env: NodeJS.ProcessEnv;
  json: boolean;
  /** Connects on first use (later calls return the same client); closed when the command ends. */
  connect(): Promise<AgentClient>;
  /** One line on stderr: "berthctl: warning: ...". */
  warn(message: string): void;
}
