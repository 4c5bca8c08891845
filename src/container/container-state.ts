import { AgentError, Code } from "../errors.js";

export type ContainerState = "created" | "running" | "paused" | "stopped";

const MOVES: Readonly<Record<ContainerState, readonly ContainerState[]>> = {
  created: ["running", "stopped"],
  running: ["paused", "stopped"],
  paused: ["running", "stopped"],
  stopped: [],
};

/** Throws FAILED_PRECONDITION naming both states unless `from` → `to` is a legal move. */
export function checkMove(id: string, from: ContainerState, to: ContainerState): void {
  if (!MOVES[from].includes(to)) {
    throw new AgentError(Code.FAILED_PRECONDITION, `container ${id} is ${from}: it cannot become ${to}`);
  }
}
