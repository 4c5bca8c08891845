import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code } from "../../src/protocol/ttrpc/code.js";
import { TtrpcError } from "../../src/protocol/ttrpc/status.js";
import { startAgent } from "../support/agent-process.js";
import { AgentRpc } from "../support/agent-rpc.js";
import { makeBusyboxRootfs } from "../support/busybox-rootfs.js";
import { containerSpec } from "../support/container-spec.js";
import { cgroupDirs, childrenOf, entries, mountsUnder, runcContainers } from "../support/leftovers.js";

const CONTAINER_STEPS = [
  "devices",
  "storages",
  "cpuset",
  "sysctls",
  "rootfs",
  "bundle",
  "stdio",
  "runc-create",
];
const SANDBOX_STEPS = ["kernel-modules", "namespaces", "pid-namespace", "storages", "dns"];

/** net.ipv4.ip_forward in the network namespace of process `pid`. */
const ipForward = (pid: number) =>
  execFileSync("nsenter", ["-t", String(pid), "-n", "cat", "/proc/sys/net/ipv4/ip_forward"], {
    encoding: "utf8",
  }).trim();

const injected = (step: string) => (e: unknown) =>
  e instanceof TtrpcError && e.code === Code.INTERNAL && e.message === `injected failure at ${step}`;

/**
 * A failure injected at each step of CreateSandbox and CreateContainer (BERTH_TEST_FAULTS) must leave
 * nothing of the failed call behind: no mount, directory, runc container, cgroup or process.
 */
describe("rollback of a failed CreateSandbox or CreateContainer", () => {
  let dir: string;
  let rootfs: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "berth-rollback-"));
    rootfs = makeBusyboxRootfs(join(dir, "rootfs"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const step of SANDBOX_STEPS) {
    it(`CreateSandbox failing at ${step} leaves nothing, and a retry without the fault succeeds`, async () => {
      const agent = await startAgent({
        netns: true,
        env: { ...process.env, BERTH_TEST_FAULTS: `create-sandbox:${step}` },
      });
      const rpc = await AgentRpc.connect(agent.socketPath);
      try {
        const storageDir = join(agent.dir, "sandbox-shm");
        await assert.rejects(
          rpc.call("createSandbox", {
            sandboxId: "sb",
            hostname: "sb",
            dns: ["nameserver 10.0.0.1"],
            sandboxPidns: true,
            storages: [
              {
                driver: "ephemeral",
                source: "shm",
                fstype: "tmpfs",
                mountPoint: storageDir,
                options: ["size=1m"],
              },
            ],
          }),
          injected(`create-sandbox:${step}`),
        );
        assert.deepEqual(mountsUnder(agent.pid, agent.dir), []);
        assert.deepEqual(entries(join(agent.dir, "sandbox-ns")), []);
        assert.deepEqual(entries(storageDir), []);
        assert.ok(
          !entries(join(agent.dir, "run")).includes("sandbox"),
          "review #15: the sandbox dir is gone",
        );
        assert.deepEqual(
          childrenOf(agent.pid).filter(([, comm]) => comm === "berth-pause"),
          [],
        );
        await assert.rejects(
          rpc.call("createContainer", { containerId: "c1", OCI: containerSpec({ rootfs, args: ["true"] }) }),
          (e: unknown) => e instanceof TtrpcError && e.code === Code.FAILED_PRECONDITION,
        );
      } finally {
        rpc.close();
        await agent.stop();
      }
    });
  }

  for (const step of CONTAINER_STEPS) {
    it(`CreateContainer failing at ${step} undoes every step before it`, async () => {
      const agent = await startAgent({
        netns: true,
        env: { ...process.env, BERTH_TEST_FAULTS: `create-container:${step}` },
      });
      const rpc = await AgentRpc.connect(agent.socketPath);
      const id = `rollback-${step}`;
      try {
        await rpc.call("createSandbox", { sandboxId: "sb", hostname: "sb" });
        const sandboxMounts = mountsUnder(agent.pid, agent.dir);
        const forwarding = ipForward(agent.pid);
        const scratch = join(agent.dir, "scratch");
        mkdirSync(scratch);
        await assert.rejects(
          rpc.call("createContainer", {
            containerId: id,
            OCI: containerSpec({ rootfs, args: ["true"], sysctl: { "net.ipv4.ip_forward": "1" } }),
            storages: [
              {
                driver: "ephemeral",
                source: "tmpfs",
                fstype: "tmpfs",
                mountPoint: scratch,
                options: ["size=1m"],
              },
            ],
          }),
          injected(`create-container:${step}`),
        );
        assert.deepEqual(mountsUnder(agent.pid, agent.dir), sandboxMounts);
        assert.deepEqual(
          entries(join(agent.dir, "run")).filter((e) => !e.startsWith(".") && e !== "sandbox"),
          [],
        );
        assert.deepEqual(runcContainers(join(agent.dir, "runc")), []);
        assert.deepEqual(cgroupDirs(id), []);
        assert.equal(ipForward(agent.pid), forwarding, "review #15: the net sysctl is restored");
        await rpc.call("destroySandbox", {});
        assert.deepEqual(mountsUnder(agent.pid, agent.dir), []);
      } finally {
        rpc.close();
        await agent.stop();
      }
    });
  }

  it("review #15: net sysctls written before a later one fails are restored", async () => {
    const agent = await startAgent({ netns: true });
    const rpc = await AgentRpc.connect(agent.socketPath);
    try {
      await rpc.call("createSandbox", { sandboxId: "sb", hostname: "sb" });
      const forwarding = ipForward(agent.pid);
      await assert.rejects(
        rpc.call("createContainer", {
          containerId: "sysctls",
          OCI: containerSpec({
            rootfs,
            args: ["true"],
            sysctl: { "net.ipv4.ip_forward": forwarding === "1" ? "0" : "1", "net.ipv4.no_such_key": "1" },
          }),
        }),
        (e: unknown) => e instanceof TtrpcError && e.code === Code.NOT_FOUND && /no_such_key/.test(e.message),
      );
      assert.equal(ipForward(agent.pid), forwarding);
      await rpc.call("destroySandbox", {});
    } finally {
      rpc.close();
      await agent.stop();
    }
  });
});
