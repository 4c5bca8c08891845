import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import {
  ReadStreamRequestSchema,
  WaitProcessRequestSchema,
  WriteStreamRequestSchema,
} from "../../src/protocol/gen/agent_pb.js";
import type { AgentProcess } from "../../test/support/agent-process.js";
import { AgentRpc } from "../../test/support/agent-rpc.js";
import { makeBusyboxRootfs } from "../../test/support/busybox-rootfs.js";
import { containerSpec } from "../../test/support/container-spec.js";
import { type AbuseResult, underFlood } from "./measure.js";
import { paddedRequest } from "./padded-calls.js";
import { RawPeer, requestFrame } from "./raw-peer.js";

const T = 30_000;
const agentService = "grpc.AgentService";

/** A sandbox and one running container of `args` (a terminal one when asked) for a flood to aim at. */
async function withContainer<R>(
  agent: AgentProcess,
  args: string[],
  terminal: boolean,
  body: (id: string) => Promise<R>,
): Promise<R> {
  const dir = mkdtempSync(join(tmpdir(), "berth-abuse-"));
  const rpc = await AgentRpc.connect(agent.socketPath);
  try {
    const rootfs = makeBusyboxRootfs(join(dir, "rootfs"));
    await rpc.call("createSandbox", { sandboxId: "abuse", hostname: "abuse" }, T);
    await rpc.call(
      "createContainer",
      { containerId: "c1", OCI: containerSpec({ rootfs, args, terminal }) },
      T,
    );
    await rpc.call("startContainer", { containerId: "c1" }, T);
    return await body("c1");
  } finally {
    await rpc.call("destroySandbox", {}, T).catch(() => undefined);
    rpc.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes `frames` requests made by `payload(i)` on one connection, reading the replies. */
async function send(peer: RawPeer, frames: number, method: string, payload: (i: number) => Uint8Array) {
  let sent = 0;
  for (let i = 0; i < frames; i++) {
    if (!(await peer.write(requestFrame(1 + 2 * i, agentService, method, payload(i))))) break;
    sent++;
  }
  return sent;
}

/** Review #7: WriteStdin of ~4 MiB each to a container that never reads its stdin. */
export function stdinFlood(agent: AgentProcess, calls = 250): Promise<AbuseResult> {
  return withContainer(agent, ["sleep", "1000"], false, (id) =>
    underFlood(`WriteStdin flood, ${calls} × 4 MiB to a process that does not read`, agent, async () => {
      const data = new Uint8Array((4 << 20) - 300).fill(0x61);
      const request = toBinary(
        WriteStreamRequestSchema,
        create(WriteStreamRequestSchema, { containerId: id, execId: id, data }),
      );
      const peer = await RawPeer.open(agent.socketPath);
      const sent = await send(peer, calls, "WriteStdin", () => request);
      await peer.waitForReplies(sent, 5000);
      peer.close();
      return { sent, ...peer.summary() };
    }),
  );
}

/** Review #2: pastes of 200 KB into a raw-mode terminal whose program does not read. */
export function ttyPasteFlood(agent: AgentProcess, pastes = 20): Promise<AbuseResult> {
  const program = ["sh", "-c", "stty raw -echo; sleep 1000"];
  return withContainer(agent, program, true, (id) =>
    underFlood(`tty paste, ${pastes} × 200 KB into a raw tty nobody reads`, agent, async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const data = new Uint8Array(200_000).fill(0x61);
      const request = toBinary(
        WriteStreamRequestSchema,
        create(WriteStreamRequestSchema, { containerId: id, execId: id, data }),
      );
      const peer = await RawPeer.open(agent.socketPath);
      const sent = await send(peer, pastes, "WriteStdin", () => request);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      peer.close();
      return { sent, ...peer.summary() };
    }),
  );
}

/** Review #7: ReadStdout(1 MiB) calls on a `yes` container from a peer that reads no reply. */
export function readFlood(agent: AgentProcess, calls = 4000): Promise<AbuseResult> {
  return withContainer(agent, ["yes"], false, (id) =>
    underFlood(`ReadStdout flood, ${calls} × 1 MiB on yes, replies unread`, agent, async () => {
      const request = toBinary(
        ReadStreamRequestSchema,
        create(ReadStreamRequestSchema, { containerId: id, execId: id, len: 1 << 20 }),
      );
      const peer = await RawPeer.open(agent.socketPath, false);
      const sent = await send(peer, calls, "ReadStdout", () => request);
      await new Promise((resolve) => setTimeout(resolve, 4000));
      peer.close();
      return { sent };
    }),
  );
}

/** Review #7: WaitProcess calls on a live container, each padded to ~4 MiB with an unknown field. */
export function waitFlood(agent: AgentProcess, calls = 200): Promise<AbuseResult> {
  return withContainer(agent, ["sleep", "1000"], false, (id) =>
    underFlood(`padded WaitProcess, ${calls} × 4 MiB`, agent, async () => {
      const prefix = toBinary(
        WaitProcessRequestSchema,
        create(WaitProcessRequestSchema, { containerId: id, execId: id }),
      );
      const request = paddedRequest((4 << 20) - 100, prefix);
      const peer = await RawPeer.open(agent.socketPath);
      const sent = await send(peer, calls, "WaitProcess", () => request);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const summary = peer.summary();
      peer.close();
      return { sent, ...summary };
    }),
  );
}

/** No flood: the same probes on a quiet agent with a running container, the baseline for the rest. */
export function quiet(agent: AgentProcess, ms = 5000): Promise<AbuseResult> {
  return withContainer(agent, ["sleep", "1000"], false, () =>
    underFlood("quiet agent (baseline)", agent, async () => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return {};
    }),
  );
}
