import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { AGENT_VERSION } from "../../src/version.js";
import { type AgentProcess, startAgent } from "../support/agent-process.js";
import { HEALTH_PROTO, PYTHON_GRPC_CLIENT } from "../support/interop-peers.js";
import { jsonLines, runCommand } from "../support/run-command.js";

describe("interop with Python grpcio (Debian's python3-grpcio)", () => {
  let agent: AgentProcess;

  before(async () => {
    agent = await startAgent();
  });

  after(async () => {
    await agent?.stop();
  });

  it("answers Check, Version and an unknown method over gRPC", async () => {
    const result = await runCommand(
      "/usr/bin/python3",
      [PYTHON_GRPC_CLIENT, "--addr", `unix://${agent.socketPath}`, "--proto", HEALTH_PROTO],
      { timeoutMs: 30_000 },
    );
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.deepEqual(jsonLines(result.stdout), [
      {
        check: "SERVING",
        grpc_version: "0.0.1",
        agent_version: AGENT_VERSION,
        unknown_method: "UNIMPLEMENTED",
      },
    ]);
  });
});
