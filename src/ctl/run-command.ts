import { randomBytes } from "node:crypto";
import { constants } from "node:os";
import type { Storage } from "../protocol/gen/agent_pb.js";
import { Code } from "../protocol/ttrpc/code.js";
import type { AgentClient } from "./agent-client.js";
import { attach } from "./attach.js";
import type { CtlContext } from "./ctl-context.js";
import { CtlError, describeError, EXIT_NOT_RUN, RpcError, withExitCode } from "./ctl-error.js";
import { terminalSize } from "./local-terminal.js";
import { loadRunSpec, type RunSpecOptions } from "./run-spec.js";
import { type RelayedSignal, SignalRelay } from "./signal-relay.js";

export interface RunOptions extends RunSpecOptions {
  rootfs: string;
  id?: string | undefined;
  interactive: boolean;
  /** The sandbox's hostname, when run creates the sandbox. */
  hostname?: string | undefined;
  /** Storages (protobuf JSON) the sandbox mounts, when run creates it: a VM's share (berth-vm start). */
  sandboxStorages?: readonly Storage[] | undefined;
  /** Leave the container after it exits (for `berthctl rm`). */
  keep: boolean;
}

export const SANDBOX_ID = "berthctl";
export const DEFAULT_HOSTNAME = "berth";

/**
 * berthctl run: sandbox (if there is none) → spec → CreateContainer → StartContainer → stream stdio →
 * WaitProcess → RemoveContainer. Returns the container's exit status; a failure before it ran exits 125,
 * and a signal before it ran cancels the run (128 + signal).
 */
export async function runContainer(ctx: CtlContext, options: RunOptions): Promise<number> {
  let interrupted: RelayedSignal | undefined;
  const relay = new SignalRelay((signal) => {
    interrupted ??= signal;
  });
  const checkInterrupted = () => {
    if (interrupted)
      throw new CtlError(`interrupted by ${interrupted}`, 128 + constants.signals[interrupted]);
  };
  const id = options.id ?? randomBytes(6).toString("hex");
  let started = false;
  try {
    const size = options.tty ? terminalSize(ctx.io) : undefined;
    const { spec, warnings } = await loadRunSpec(options.rootfs, { ...options, size }, ctx.env);
    for (const warning of warnings) ctx.warn(warning);
    const client = await ctx.connect();
    await ensureSandbox(ctx, client, options.hostname, options.sandboxStorages ?? []);
    checkInterrupted();
    await client.call("createContainer", { containerId: id, execId: id, OCI: spec });
    try {
      checkInterrupted();
      await client.call("startContainer", { containerId: id });
      started = true;
      const ref = { containerId: id, execId: "" };
      return await attach(client, ref, { tty: options.tty, interactive: options.interactive }, ctx.io, relay);
    } finally {
      if (!options.keep) await remove(ctx, client, id);
    }
  } catch (error) {
    if (started || (error instanceof CtlError && error.exitCode > 1)) throw error;
    throw withExitCode(error, EXIT_NOT_RUN);
  } finally {
    relay.dispose();
  }
}

/** CreateSandbox, unless there is a sandbox already (ALREADY_EXISTS): containers then join that one. */
async function ensureSandbox(
  ctx: CtlContext,
  client: AgentClient,
  hostname: string | undefined,
  storages: readonly Storage[],
): Promise<void> {
  try {
    await client.call("createSandbox", {
      sandboxId: SANDBOX_ID,
      hostname: hostname ?? DEFAULT_HOSTNAME,
      storages: [...storages],
    });
  } catch (error) {
    if (!(error instanceof RpcError && error.code === Code.ALREADY_EXISTS)) throw error;
    if (hostname !== undefined) ctx.warn(`a sandbox exists already; --hostname ${hostname} is ignored`);
    if (storages.length > 0) ctx.warn("a sandbox exists already; --sandbox-storage is ignored");
  }
}

/** RemoveContainer; a failure is reported, and does not hide the container's status. */
async function remove(ctx: CtlContext, client: AgentClient, id: string): Promise<void> {
  try {
    await client.call("removeContainer", { containerId: id });
  } catch (error) {
    ctx.warn(`cannot remove container ${id}: ${describeError(error)}`);
  }
}
