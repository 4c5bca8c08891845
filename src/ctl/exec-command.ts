import { randomBytes } from "node:crypto";
import { constants } from "node:os";
import { attach } from "./attach.js";
import type { CtlContext } from "./ctl-context.js";
import { CtlError, EXIT_NOT_RUN, withExitCode } from "./ctl-error.js";
import { terminalSize } from "./local-terminal.js";
import { execProcess, type ProcessOptions } from "./run-spec.js";
import { type RelayedSignal, SignalRelay } from "./signal-relay.js";

export interface ExecOptions extends ProcessOptions {
  containerId: string;
  execId?: string | undefined;
  interactive: boolean;
}

/**
 * berthctl exec: ExecProcess in a running container, stream its stdio, WaitProcess. Returns its exit
 * status; a failure before it ran exits 125.
 */
export async function execInContainer(ctx: CtlContext, options: ExecOptions): Promise<number> {
  let interrupted: RelayedSignal | undefined;
  const relay = new SignalRelay((signal) => {
    interrupted ??= signal;
  });
  const ref = {
    containerId: options.containerId,
    execId: options.execId ?? `exec-${randomBytes(4).toString("hex")}`,
  };
  let started = false;
  try {
    const size = options.tty ? terminalSize(ctx.io) : undefined;
    const process = execProcess({ ...options, size }, ctx.env);
    const client = await ctx.connect();
    await client.call("execProcess", { ...ref, process });
    started = true;
    if (interrupted) {
      await client.call("signalProcess", { ...ref, signal: constants.signals[interrupted] }).catch(() => {});
    }
    try {
      return await attach(client, ref, { tty: options.tty, interactive: options.interactive }, ctx.io, relay);
    } catch (error) {
      await client.call("signalProcess", { ...ref, signal: constants.signals.SIGKILL }).catch(() => {});
      throw error;
    }
  } catch (error) {
    if (started || (error instanceof CtlError && error.exitCode > 1)) throw error;
    throw withExitCode(error, EXIT_NOT_RUN);
  } finally {
    relay.dispose();
  }
}
