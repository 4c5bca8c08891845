import type { CtlContext } from "./ctl-context.js";
import { parseSignal } from "./signal-names.js";

/** berthctl kill ID [SIGNAL]: SignalProcess to the init process (or --exec EXEC_ID); TERM by default. */
export async function kill(
  ctx: CtlContext,
  containerId: string,
  signal = "TERM",
  execId = "",
): Promise<number> {
  const number = parseSignal(signal);
  const client = await ctx.connect();
  await client.call("signalProcess", { containerId, execId, signal: number });
  return 0;
}

/** berthctl rm ID: RemoveContainer (the agent kills it first if it still runs). */
export async function rm(ctx: CtlContext, containerId: string): Promise<number> {
  const client = await ctx.connect();
  await client.call("removeContainer", { containerId });
  return 0;
}
