import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Code } from "../../src/protocol/ttrpc/code.js";
import { type Fixture, failsWith, sandboxFixture } from "../support/container-fixture.js";
import { childrenOf, entries, mountsUnder } from "../support/leftovers.js";
import { T, waitFor } from "../support/process-helpers.js";

const TEST = { timeout: 60_000 };

/** The inode of the namespace pinned on `file`, seen in the agent's mount namespace. */
const pinnedNs = (f: Fixture, file: string) => statSync(`/proc/${f.agent.pid}/root${file}`).ino;

const initPid = (f: Fixture, id: string) =>
  (
    JSON.parse(execFileSync("runc", ["--root", f.runcRoot, "state", id], { encoding: "utf8" })) as {
      pid: number;
    }
  ).pid;

/** Runs `script` in a container that shares the sandbox's PID namespace; resolves with its exit status. */
async function runShared(f: Fixture, id: string, script: string) {
  await f.rpc.call(
    "createContainer",
    { containerId: id, OCI: f.spec(["sh", "-c", script]), sandboxPidns: true },
    T,
  );
  await f.rpc.call("startContainer", { containerId: id }, T);
  const status = await waitFor(f, id, "");
  await f.rpc.call("removeContainer", { containerId: id }, T);
  return status;
}

describe("a PID namespace donated by the sandbox's first container", () => {
  const f = sandboxFixture("donor");

  it(
    "review #13: is pinned on <sandbox-ns>/pid; once the donor's init is gone, joining it is FAILED_PRECONDITION naming the donor",
    TEST,
    async () => {
      const pin = join(f.sandboxNsDir, "pid");
      await f.rpc.call(
        "createContainer",
        { containerId: "d1", OCI: f.spec(["sleep", "1000"]), sandboxPidns: true },
        T,
      );
      await f.rpc.call("startContainer", { containerId: "d1" }, T);
      const donor = initPid(f, "d1");
      assert.ok(mountsUnder(f.agent.pid, f.sandboxNsDir).includes(pin), "the namespace is bind-mounted");
      assert.equal(pinnedNs(f, pin), statSync(`/proc/${donor}/ns/pid`).ino);
      assert.equal(await runShared(f, "c2", "readlink /proc/self/ns/pid > /out/c2"), 0);
      assert.equal(f.read("c2"), readlinkSync(`/proc/${donor}/ns/pid`));

      await f.rpc.call("signalProcess", { containerId: "d1", execId: "", signal: 9 }, T);
      assert.equal(await waitFor(f, "d1", ""), 137);
      await assert.rejects(
        runShared(f, "c3", "true"),
        failsWith(
          Code.FAILED_PRECONDITION,
          /c3 cannot join the sandbox's PID namespace: its init, container d1, has exited/,
        ),
      );
      await f.rpc.call("removeContainer", { containerId: "d1" }, T);
      await assert.rejects(runShared(f, "c4", "true"), failsWith(Code.FAILED_PRECONDITION, /container d1/));
      f.assertNoContainerLeft(["d1", "c2", "c3", "c4"]);

      await f.rpc.call("destroySandbox", {}, T);
      assert.deepEqual(mountsUnder(f.agent.pid, f.sandboxNsDir), []);
      assert.deepEqual(entries(f.sandboxNsDir), []);
      await f.rpc.call("createSandbox", { sandboxId: "donor", hostname: "donor" }, T);
    },
  );
});

describe("berth-pause's PID namespace (sandbox_pidns)", () => {
  const f = sandboxFixture("pause", { sandboxPidns: true });

  it(
    "review #13: is pinned on <sandbox-ns>/pid, joined by every container, and unpinned with the sandbox",
    TEST,
    async () => {
      const pin = join(f.sandboxNsDir, "pid");
      const [pause] = childrenOf(f.agent.pid).filter(([, comm]) => comm === "berth-pause");
      assert.ok(pause, "berth-pause runs");
      assert.equal(pinnedNs(f, pin), statSync(`/proc/${pause[0]}/ns/pid`).ino);
      assert.equal(await runShared(f, "p1", "readlink /proc/self/ns/pid > /out/p1"), 0);
      assert.equal(f.read("p1"), readlinkSync(`/proc/${pause[0]}/ns/pid`));
      await f.rpc.call("destroySandbox", {}, T);
      assert.deepEqual(mountsUnder(f.agent.pid, f.sandboxNsDir), []);
      assert.deepEqual(entries(f.sandboxNsDir), []);
      await f.rpc.call("createSandbox", { sandboxId: "pause", hostname: "pause", sandboxPidns: true }, T);
    },
  );
});
