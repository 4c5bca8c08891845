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

/**
 * berthctl ps ID [-- PS_ARGS...]: ListProcesses (Kata 1.x): the `ps` lines of the container's processes
 * (the agent runs `ps PS_ARGS`, default -ef), or with --json its pids as a JSON array.
 */
export async function ps(ctx: CtlContext, containerId: string, psArgs: readonly string[]): Promise<number> {
  const client = await ctx.connect();
  const format = ctx.json ? "json" : "table";
  const { processList } = await client.call("listProcesses", { containerId, format, args: [...psArgs] });
  ctx.io.stdout.write(processList);
  if (ctx.json) ctx.io.stdout.write("\n");
  return 0;
}
