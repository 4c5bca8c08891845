import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { Code } from "../../src/protocol/ttrpc/code.js";
import { storageDriverNames } from "../../src/storage/lookup-storage-driver.js";
import { AGENT_VERSION } from "../../src/version.js";
import { type AgentProcess, startAgent } from "../support/agent-process.js";
import { AgentRpc } from "../support/agent-rpc.js";
import { failsWith } from "../support/container-fixture.js";

const MEMORY = "/sys/devices/system/memory";

/** This machine's seccomp support, found the way an operator would: runc's own report and the kernel's. */
function seccompHere(): boolean {
  const features = JSON.parse(execFileSync("runc", ["features"], { encoding: "utf8" })) as {
    linux?: { seccomp?: { enabled?: boolean } };
  };
  return features.linux?.seccomp?.enabled === true && existsSync("/proc/sys/kernel/seccomp/actions_avail");
}

describe("GetGuestDetails and SetGuestDateTime", () => {
  let agent: AgentProcess;
  let rpc: AgentRpc;

  before(async () => {
    // Without CAP_SYS_TIME: should the agent ever pass a time on to settimeofday, the kernel refuses it.
    agent = await startAgent({ withoutCapabilities: ["sys_time"] });
    rpc = await AgentRpc.connect(agent.socketPath);
  });

  after(async () => {
    rpc?.close();
    await agent?.stop();
  });

  it("GetGuestDetails reports the guest's memory block size and probe support from sysfs", async () => {
    const reply = await rpc.call("getGuestDetails", { memBlockSize: true, memHotplugProbe: true });
    const sysfs = readFileSync(`${MEMORY}/block_size_bytes`, "utf8").trim();
    assert.equal(reply.memBlockSizeBytes, BigInt(`0x${sysfs}`));
    assert.ok(reply.memBlockSizeBytes > 0n);
    assert.equal(reply.supportMemHotplugProbe, existsSync(`${MEMORY}/probe`));
  });

  it("GetGuestDetails leaves out what was not asked for", async () => {
    const reply = await rpc.call("getGuestDetails", {});
    assert.equal(reply.memBlockSizeBytes, 0n);
    assert.equal(reply.supportMemHotplugProbe, false);
  });

  it("GetGuestDetails describes the agent: version, init mode, handlers, seccomp", async () => {
    const { agentDetails } = await rpc.call("getGuestDetails", { memBlockSize: true });
    assert.ok(agentDetails);
    assert.equal(agentDetails.version, AGENT_VERSION);
    assert.equal(agentDetails.initDaemon, false);
    assert.deepEqual(agentDetails.storageHandlers, [...storageDriverNames]);
    assert.ok(agentDetails.storageHandlers.includes("virtio-fs"));
    assert.deepEqual(agentDetails.deviceHandlers, [
      "blk",
      "mmioblk",
      "nvdimm",
      "scsi",
      "vfio-pci",
      "vfio-pci-gk",
    ]);
    assert.equal(agentDetails.supportsSeccomp, seccompHere());
    assert.deepEqual(agentDetails.extraFeatures, []);
    const again = await rpc.call("getGuestDetails", {});
    assert.equal(again.agentDetails?.supportsSeccomp, agentDetails.supportsSeccomp);
  });

  // Only requests the agent must refuse before it calls settimeofday: nothing here may move the clock.
  it("SetGuestDateTime refuses times Linux cannot hold, and an empty request, with INVALID_ARGUMENT", async () => {
    const before = Date.now();
    const cases: [{ Sec?: bigint; Usec?: bigint }, RegExp][] = [
      [{}, /Sec 0 is the Unix epoch itself/],
      [{ Sec: -1n, Usec: 0n }, /Sec -1 is before 1970/],
      [{ Sec: 1_764_201_600n, Usec: -1n }, /Usec -1 is not a microsecond count/],
      [{ Sec: 1_764_201_600n, Usec: 1_000_000n }, /Usec 1000000/],
      [{ Sec: 8_277_292_036n, Usec: 0n }, /at or after 2232-04-18T23:47:16.000Z/],
      [{ Sec: 2n ** 63n - 1n, Usec: 0n }, /beyond which Linux refuses to set the clock/],
    ];
    for (const [request, message] of cases) {
      await assert.rejects(
        rpc.call("setGuestDateTime", request),
        failsWith(Code.INVALID_ARGUMENT, message),
        JSON.stringify(request, (_, v) => (typeof v === "bigint" ? String(v) : v)),
      );
    }
    const elapsed = Date.now() - before;
    assert.ok(elapsed >= 0 && elapsed < 10_000, `the clock moved: ${elapsed} ms`);
  });

  it("SetGuestDateTime passes a time Linux can hold to settimeofday (refused here: no CAP_SYS_TIME)", async () => {
    const status = readFileSync(`/proc/${agent.pid}/status`, "utf8");
    assert.equal(BigInt(`0x${/CapBnd:\s*([0-9a-f]+)/.exec(status)?.[1]}`) & (1n << 25n), 0n);
    const now = BigInt(Date.now());
    await assert.rejects(
      rpc.call("setGuestDateTime", { Sec: now / 1000n, Usec: (now % 1000n) * 1000n }),
      failsWith(Code.PERMISSION_DENIED, /cannot set the guest clock to \d+ s \d+ µs: settimeofday/),
    );
  });
});
