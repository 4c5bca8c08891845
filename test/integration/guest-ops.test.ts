import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Code } from "../../src/protocol/ttrpc/code.js";
import { failsWith, sandboxFixture } from "../support/container-fixture.js";
import { bindInto } from "../support/container-spec.js";
import { T } from "../support/process-helpers.js";

const TERMINATION_MESSAGE_PATH = "io.kubernetes.container.terminationMessagePath";

describe("ReseedRandomDev, GetDiagnosticData, SetPolicy and the mem-agent RPCs", () => {
  const f = sandboxFixture("guest-ops");

  it("ReseedRandomDev credits the host's bytes to the kernel and reseeds it, logging their count only", async () => {
    const seed = randomBytes(512);
    await f.rpc.call("reseedRandomDev", { data: seed }, T);
    const line = await f.agent.waitForLog((l) => l.msg === "kernel random pool reseeded");
    assert.equal(line.bytes, 512);
    const logs = JSON.stringify(f.agent.logs) + f.agent.stderr();
    for (const encoding of ["hex", "base64"] as const) {
      assert.ok(
        !logs.includes(seed.subarray(0, 16).toString(encoding)),
        `the seed appears in the log as ${encoding}`,
      );
    }
    await assert.rejects(
      f.rpc.call("reseedRandomDev", { data: new Uint8Array(0) }, T),
      failsWith(Code.INVALID_ARGUMENT, /no entropy data/),
    );
  });

  it("GetDiagnosticData reads the termination message the container wrote, at most 4096 bytes", async () => {
    const log = join(f.out, "termination-log");
    writeFileSync(log, "");
    const more = {
      annotations: { [TERMINATION_MESSAGE_PATH]: "/dev/termination-log" },
      mounts: [bindInto(log, "/dev/termination-log")],
    };
    await f.rpc.call(
      "createContainer",
      {
        containerId: "dying",
        execId: "dying",
        OCI: f.spec(
          [
            "sh",
            "-c",
            "printf 'out of patience\\n' > /dev/termination-log; head -c 5000 /dev/zero | tr '\\000' x >> /dev/termination-log; exit 3",
          ],
          more,
        ),
      },
      T,
    );
    try {
      await f.rpc.call("startContainer", { containerId: "dying" }, T);
      const { status } = await f.rpc.call("waitProcess", { containerId: "dying", execId: "" }, T);
      assert.equal(status, 3);
      const { data } = await f.rpc.call(
        "getDiagnosticData",
        { containerId: "dying", logType: "termination_log" },
        T,
      );
      assert.equal(data.length, 4096);
      assert.ok(data.startsWith("out of patience\nxxx"), data.slice(0, 40));
      await assert.rejects(
        f.rpc.call("getDiagnosticData", { containerId: "dying", logType: "kernel_log" }, T),
        failsWith(Code.INVALID_ARGUMENT, /unsupported diagnostic log_type: "kernel_log"/),
      );
    } finally {
      await f.rpc.call("removeContainer", { containerId: "dying" }, T);
    }
    await assert.rejects(
      f.rpc.call("getDiagnosticData", { containerId: "dying", logType: "termination_log" }, T),
      failsWith(Code.NOT_FOUND, /dying/),
    );
  });

  it("GetDiagnosticData is empty for a container without a termination log", async () => {
    await f.rpc.call("createContainer", { containerId: "quiet", execId: "quiet", OCI: f.spec(["true"]) }, T);
    try {
      const { data } = await f.rpc.call(
        "getDiagnosticData",
        { containerId: "quiet", logType: "termination_log" },
        T,
      );
      assert.equal(data, "");
    } finally {
      await f.rpc.call("removeContainer", { containerId: "quiet" }, T);
    }
  });

  it("SetPolicy is refused as by a Kata agent built without policy support, so the pod does not start unenforced", async () => {
    await assert.rejects(
      f.rpc.call(
        "setPolicy",
        { policy: "package agent_policy\ndefault CreateContainerRequest := false\n" },
        T,
      ),
      failsWith(Code.NOT_FOUND, /^\/grpc\.AgentService\/SetPolicy is not supported$/),
    );
  });

  it("MemAgentMemcgSet and MemAgentCompactSet answer as Kata's agent with its mem-agent off", async () => {
    await assert.rejects(
      f.rpc.call("memAgentMemcgSet", { disabled: false }, T),
      failsWith(Code.INTERNAL, /^mem-agent is disabled$/),
    );
    await assert.rejects(
      f.rpc.call("memAgentCompactSet", {}, T),
      failsWith(Code.INTERNAL, /^mem-agent is disabled$/),
    );
  });
});
