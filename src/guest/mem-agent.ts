import { AgentError, Code } from "../errors.js";

/**
 * MemAgentMemcgSet and MemAgentCompactSet configure Kata's mem-agent (MGLRU reclaim and compaction, off
 * unless the guest boots with agent.mem_agent_enable). berth has none: both are answered as Kata answers
 * with it off. No host runtime calls them; only kata-agent-ctl does.
 */
export function memAgentDisabled(): AgentError {
  return new AgentError(Code.INTERNAL, "mem-agent is disabled");
}
