/**
 * Pins berth's schema to the wire facts of Kata 4.x that peers depend on (shared/reference/kata-agent.md
 * §2–3, §13), especially the ones that changed between Kata releases (§3.6).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createRegistry, type DescField, type DescMessage, ScalarType } from "@bufbuild/protobuf";
import { AgentService, file_agent } from "../src/protocol/gen/agent_pb.js";
import { file_csi } from "../src/protocol/gen/csi_pb.js";
import { file_health, Health } from "../src/protocol/gen/health_pb.js";
import { file_oci } from "../src/protocol/gen/oci_pb.js";
import { file_types } from "../src/protocol/gen/types_pb.js";

const registry = createRegistry(file_agent, file_oci, file_types, file_csi, file_health);

function message(name: string): DescMessage {
  const m = registry.getMessage(name);
  assert.ok(m, `message ${name} exists`);
  return m;
}

function field(messageName: string, fieldName: string): DescField {
  const f = message(messageName).fields.find((x) => x.name === fieldName);
  assert.ok(f, `${messageName}.${fieldName} exists`);
  return f;
}

const RPCS: [string, string, string][] = [
  ["CreateContainer", "CreateContainerRequest", "google.protobuf.Empty"],
  ["StartContainer", "StartContainerRequest", "google.protobuf.Empty"],
  ["RemoveContainer", "RemoveContainerRequest", "google.protobuf.Empty"],
  ["ExecProcess", "ExecProcessRequest", "google.protobuf.Empty"],
  ["SignalProcess", "SignalProcessRequest", "google.protobuf.Empty"],
  ["WaitProcess", "WaitProcessRequest", "WaitProcessResponse"],
  ["UpdateContainer", "UpdateContainerRequest", "google.protobuf.Empty"],
  ["UpdateEphemeralMounts", "UpdateEphemeralMountsRequest", "google.protobuf.Empty"],
  ["StatsContainer", "StatsContainerRequest", "StatsContainerResponse"],
  ["PauseContainer", "PauseContainerRequest", "google.protobuf.Empty"],
  ["ResumeContainer", "ResumeContainerRequest", "google.protobuf.Empty"],
  ["RemoveStaleVirtiofsShareMounts", "RemoveStaleVirtiofsShareMountsRequest", "google.protobuf.Empty"],
  ["GetDiagnosticData", "GetDiagnosticDataRequest", "GetDiagnosticDataResponse"],
  ["WriteStdin", "WriteStreamRequest", "WriteStreamResponse"],
  ["ReadStdout", "ReadStreamRequest", "ReadStreamResponse"],
  ["ReadStderr", "ReadStreamRequest", "ReadStreamResponse"],
  ["CloseStdin", "CloseStdinRequest", "google.protobuf.Empty"],
  ["TtyWinResize", "TtyWinResizeRequest", "google.protobuf.Empty"],
  ["UpdateInterface", "UpdateInterfaceRequest", "types.Interface"],
  ["UpdateRoutes", "UpdateRoutesRequest", "Routes"],
  ["ListInterfaces", "ListInterfacesRequest", "Interfaces"],
  ["ListRoutes", "ListRoutesRequest", "Routes"],
  ["AddARPNeighbors", "AddARPNeighborsRequest", "google.protobuf.Empty"],
  ["GetIPTables", "GetIPTablesRequest", "GetIPTablesResponse"],
  ["SetIPTables", "SetIPTablesRequest", "SetIPTablesResponse"],
  ["GetMetrics", "GetMetricsRequest", "Metrics"],
  ["MemAgentMemcgSet", "MemAgentMemcgConfig", "google.protobuf.Empty"],
  ["MemAgentCompactSet", "MemAgentCompactConfig", "google.protobuf.Empty"],
  ["CreateSandbox", "CreateSandboxRequest", "google.protobuf.Empty"],
  ["DestroySandbox", "DestroySandboxRequest", "google.protobuf.Empty"],
  ["OnlineCPUMem", "OnlineCPUMemRequest", "google.protobuf.Empty"],
  ["ReseedRandomDev", "ReseedRandomDevRequest", "google.protobuf.Empty"],
  ["GetGuestDetails", "GuestDetailsRequest", "GuestDetailsResponse"],
  ["MemHotplugByProbe", "MemHotplugByProbeRequest", "google.protobuf.Empty"],
  ["SetGuestDateTime", "SetGuestDateTimeRequest", "google.protobuf.Empty"],
  ["CopyFile", "CopyFileRequest", "google.protobuf.Empty"],
  ["GetOOMEvent", "GetOOMEventRequest", "OOMEvent"],
  ["AddSwap", "AddSwapRequest", "google.protobuf.Empty"],
  ["AddSwapPath", "AddSwapPathRequest", "google.protobuf.Empty"],
  ["GetVolumeStats", "VolumeStatsRequest", "VolumeStatsResponse"],
  ["ResizeVolume", "ResizeVolumeRequest", "google.protobuf.Empty"],
  ["SetPolicy", "SetPolicyRequest", "google.protobuf.Empty"],
  // Kata 1.x only (removed in 2.1.0), appended: ttrpc and gRPC name methods, so the order is not on the wire.
  ["ListProcesses", "ListProcessesRequest", "ListProcessesResponse"],
];

const qualified = (name: string) => (name.includes(".") ? name : `grpc.${name}`);

describe("berth's schema against Kata 4.x's wire contract", () => {
  it("has grpc.AgentService with Kata's 42 RPCs, in Kata's order, with Kata's request and reply types, and 1.x's ListProcesses", () => {
    assert.equal(AgentService.typeName, "grpc.AgentService");
    assert.deepEqual(
      AgentService.methods.map((m) => [m.name, m.input.typeName, m.output.typeName]),
      RPCS.map(([name, input, output]) => [name, qualified(input), qualified(output)]),
    );
    assert.ok(AgentService.methods.every((m) => m.methodKind === "unary"));
  });

  it("has grpc.Health with Check and Version", () => {
    assert.equal(Health.typeName, "grpc.Health");
    assert.deepEqual(
      Health.methods.map((m) => [m.name, m.input.typeName, m.output.typeName]),
      [
        ["Check", "grpc.CheckRequest", "grpc.HealthCheckResponse"],
        ["Version", "grpc.CheckRequest", "grpc.VersionCheckResponse"],
      ],
    );
  });

  const numbers: [string, string, number][] = [
    ["CreateContainerRequest", "OCI", 6],
    ["CreateContainerRequest", "shared_mounts", 8],
    ["CreateContainerRequest", "stderr_port", 11],
    ["ExecProcessRequest", "stdin_port", 5],
    ["LinuxSeccomp", "Flags", 3],
    ["LinuxSeccomp", "Syscalls", 4],
    ["LinuxSyscall", "errnoret", 3],
    ["LinuxSyscall", "Args", 4],
    ["Hooks", "StartContainer", 6],
    ["ReseedRandomDevRequest", "data", 2],
    ["FSGroup", "group_id", 2],
    ["Storage", "shared", 8],
    ["AgentDetails", "extra_features", 6],
    ["types.Route", "mtu", 8],
    ["types.Interface", "devicePath", 6],
    ["VersionCheckResponse", "grpc_version", 1],
    ["ListProcessesRequest", "format", 2],
    ["ListProcessesRequest", "args", 3],
    ["ListProcessesResponse", "process_list", 1],
  ];
  for (const [msg, name, number] of numbers) {
    it(`numbers ${msg}.${name} ${number}`, () => {
      assert.equal(field(qualified(msg), name).number, number);
    });
  }

  it("carries CreateContainerRequest field 8 as a message (Kata 1.x had a bool there)", () => {
    const f = field("grpc.CreateContainerRequest", "shared_mounts");
    assert.equal(f.fieldKind, "list");
    assert.equal(f.listKind, "message");
  });

  it("keeps LinuxSyscall.errnoret in oneof ErrnoRet, so an explicit 0 is sent", () => {
    assert.equal(field("grpc.LinuxSyscall", "errnoret").oneof?.name, "ErrnoRet");
  });

  it("gives exactly the 15 mem-agent fields explicit presence", () => {
    const optional = registry
      .getMessage("grpc.MemAgentMemcgConfig")
      ?.fields.concat(registry.getMessage("grpc.MemAgentCompactConfig")?.fields ?? [])
      .filter((f) => f.proto.proto3Optional);
    assert.equal(optional?.length, 15);
  });

  it("uses Kata's scalar types where they differ from the obvious", () => {
    const scalar = (m: string, f: string) => {
      const d = field(m, f);
      return d.fieldKind === "scalar" || (d.fieldKind === "list" && d.listKind === "scalar")
        ? d.scalar
        : undefined;
    };
    assert.equal(scalar("grpc.WaitProcessResponse", "status"), ScalarType.INT32);
    assert.equal(scalar("grpc.CopyFileRequest", "uid"), ScalarType.INT32);
    assert.equal(scalar("grpc.CopyFileRequest", "offset"), ScalarType.INT64);
    assert.equal(scalar("grpc.RemoveContainerRequest", "timeout"), ScalarType.UINT32);
    assert.equal(scalar("grpc.LinuxDevice", "Major"), ScalarType.INT64);
    assert.equal(scalar("grpc.LinuxCPU", "Quota"), ScalarType.INT64);
    assert.equal(scalar("grpc.LinuxCPU", "Shares"), ScalarType.UINT64);
    assert.equal(scalar("grpc.MemHotplugByProbeRequest", "memHotplugProbeAddr"), ScalarType.UINT64);
    assert.equal(scalar("grpc.AddSwapRequest", "PCIPath"), ScalarType.UINT32);
  });
});
