import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { ServiceError } from "@grpc/grpc-js";
import { AgentService } from "../../src/protocol/gen/agent_pb.js";
import {
  CheckRequestSchema,
  Health,
  HealthCheckResponse_ServingStatus,
  HealthCheckResponseSchema,
  VersionCheckResponseSchema,
} from "../../src/protocol/gen/health_pb.js";
import { connectTtrpc, type TtrpcClient } from "../../src/protocol/ttrpc/client.js";
import { Code } from "../../src/protocol/ttrpc/code.js";
import { TtrpcError } from "../../src/protocol/ttrpc/status.js";
import { AGENT_VERSION } from "../../src/version.js";
import { type AgentProcess, startAgent } from "../support/agent-process.js";
import { grpcCall } from "../support/grpc-call.js";

/** RPCs berth serves: every one of grpc.AgentService. */
const IMPLEMENTED = new Set<string>([
  "CreateSandbox",
  "DestroySandbox",
  "CreateContainer",
  "StartContainer",
  "RemoveContainer",
  "StatsContainer",
  "WaitProcess",
  "ExecProcess",
  "SignalProcess",
  "ReadStdout",
  "ReadStderr",
  "WriteStdin",
  "CloseStdin",
  "TtyWinResize",
  "GetGuestDetails",
  "SetGuestDateTime",
  "CopyFile",
  "AddSwap",
  "AddSwapPath",
  "MemHotplugByProbe",
  "ReseedRandomDev",
  "GetDiagnosticData",
  "SetPolicy",
  "MemAgentMemcgSet",
  "MemAgentCompactSet",
  "OnlineCPUMem",
  "GetOOMEvent",
  "PauseContainer",
  "ResumeContainer",
  "UpdateContainer",
  "ListProcesses",
  "GetIPTables",
  "SetIPTables",
  "UpdateInterface",
  "UpdateRoutes",
  "AddARPNeighbors",
  "ListInterfaces",
  "ListRoutes",
  "GetVolumeStats",
  "ResizeVolume",
  "UpdateEphemeralMounts",
  "RemoveStaleVirtiofsShareMounts",
  "GetMetrics",
]);

describe("berth-agent serving grpc.Health and grpc.AgentService", () => {
  let agent: AgentProcess;
  let ttrpc: TtrpcClient;

  before(async () => {
    agent = await startAgent();
    ttrpc = await connectTtrpc(agent.socketPath);
  });

  after(async () => {
    ttrpc?.close();
    await agent?.stop();
  });

  it("answers Health.Check SERVING and Health.Version over ttrpc", async () => {
    const check = await ttrpc.call(
      "grpc.Health",
      "Check",
      toBinary(CheckRequestSchema, create(CheckRequestSchema)),
    );
    assert.equal(
      fromBinary(HealthCheckResponseSchema, check).status,
      HealthCheckResponse_ServingStatus.SERVING,
    );
    const version = fromBinary(
      VersionCheckResponseSchema,
      await ttrpc.call("grpc.Health", "Version", new Uint8Array(0)),
    );
    assert.equal(version.grpcVersion, "0.0.1");
    assert.equal(version.agentVersion, AGENT_VERSION);
  });

  it("answers the same on the same socket over gRPC", async () => {
    const check = await grpcCall(agent.socketPath, "/grpc.Health/Check", new Uint8Array(0));
    assert.equal(
      fromBinary(HealthCheckResponseSchema, check).status,
      HealthCheckResponse_ServingStatus.SERVING,
    );
    const version = fromBinary(
      VersionCheckResponseSchema,
      await grpcCall(agent.socketPath, "/grpc.Health/Version", new Uint8Array(0)),
    );
    assert.equal(version.agentVersion, AGENT_VERSION);
  });

  it("serves all 43 RPCs of grpc.AgentService, none of them answering UNIMPLEMENTED", async () => {
    assert.equal(AgentService.methods.length, 43);
    assert.equal(Health.methods.length, 2);
    assert.deepEqual([...IMPLEMENTED].sort(), AgentService.methods.map((m) => m.name).sort());
    // Those an empty request cannot harm: each answers, over both protocols, as itself.
    const harmless = [
      "GetMetrics",
      "GetGuestDetails",
      "ListInterfaces",
      "ListRoutes",
      "RemoveStaleVirtiofsShareMounts",
      "GetVolumeStats",
      "GetDiagnosticData",
      "SetPolicy",
      "MemAgentMemcgSet",
      "MemAgentCompactSet",
    ];
    const notUnimplemented = (code: number | undefined) => code !== Code.UNIMPLEMENTED;
    for (const name of harmless) {
      const method = AgentService.methods.find((m) => m.name === name);
      assert.ok(method, name);
      const empty = toBinary(method.input, create(method.input));
      const viaTtrpc = await ttrpc.call("grpc.AgentService", name, empty).then(
        () => undefined,
        (e: unknown) => (e instanceof TtrpcError ? e.code : -1),
      );
      assert.ok(notUnimplemented(viaTtrpc), `${name} over ttrpc`);
      const viaGrpc = await grpcCall(agent.socketPath, `/grpc.AgentService/${name}`, empty).then(
        () => undefined,
        (e: ServiceError) => Number(e.code),
      );
      assert.ok(notUnimplemented(viaGrpc), `${name} over gRPC`);
    }
  });

  it("answers an undecodable request with INVALID_ARGUMENT naming the message", async () => {
    await assert.rejects(
      ttrpc.call("grpc.AgentService", "ExecProcess", Uint8Array.of(0x0a, 0x10, 0x01)),
      (e) =>
        e instanceof TtrpcError &&
        e.code === Code.INVALID_ARGUMENT &&
        /cannot decode grpc.ExecProcessRequest/.test(e.message),
    );
  });

  it("logs one debug line per call with its method and duration", async () => {
    await ttrpc.call("grpc.Health", "Check", new Uint8Array(0));
    const line = await agent.waitForLog((l) => l.msg === "rpc ok" && l.method === "/grpc.Health/Check");
    assert.equal(line.subsystem, "rpc");
    assert.equal(typeof line.duration_ms, "number");
    assert.equal(line.name, "berth-agent");
    assert.equal(typeof line.ts, "string");
  });
});

describe("berth-agent lifecycle", () => {
  it("exits 0 on SIGTERM and removes its socket", async () => {
    const agent = await startAgent();
    const socket = agent.socketPath;
    assert.ok(existsSync(socket));
    const exit = await agent.stop("SIGTERM");
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(!existsSync(socket));
  });

  it("finishes with a clear error when the address is taken", async () => {
    const first = await startAgent();
    try {
      const second = await startAgent({
        args: ["--server-addr", `unix://${first.socketPath}`],
        ready: "none",
      });
      assert.equal((await second.wait()).code, 1);
      await second.stop();
      assert.match(second.stderr(), /another server is listening there/);
    } finally {
      await first.stop();
    }
  });

  it("refuses a bad address before starting, with usage", async () => {
    const agent = await startAgent({ args: ["--server-addr", "tcp://1.2.3.4:1"], ready: "none" });
    assert.equal((await agent.wait()).code, 2);
    await agent.stop();
    assert.match(agent.stderr(), /--server-addr: invalid listen address "tcp:\/\/1.2.3.4:1"/);
  });
});
