import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Code } from "../../src/protocol/ttrpc/code.js";
import { TtrpcError } from "../../src/protocol/ttrpc/status.js";
import { failsWith, sandboxFixture } from "../support/container-fixture.js";
import { exec, fdCount, sleep, T, waitFor } from "../support/process-helpers.js";
import { type RuncWrapperOptions, runcWrapper } from "../support/runc-wrapper.js";

const TEST = { timeout: 90_000 };

/** Pids whose command line is exactly `cmdline`. */
function running(cmdline: string): string {
  try {
    return execFileSync("pgrep", ["-xf", cmdline], { encoding: "utf8" }).trim();
  } catch {
    return "";
  }
}

const deadlinePassed = (e: unknown) => e instanceof TtrpcError && e.code === Code.DEADLINE_EXCEEDED;

/** The sandbox fixture of an agent whose runc is the real one but for `wrap`. */
function wrappedRuncFixture(id: string, wrap: RuncWrapperOptions) {
  const dir = mkdtempSync(join(tmpdir(), "berth-runc-"));
  const f = sandboxFixture(id, { args: ["--runc", runcWrapper(dir, wrap)] });
  after(() => rmSync(dir, { recursive: true, force: true }));
  return f;
}

/** Polls `check` until it holds or `ms` pass. */
async function eventually(check: () => boolean, ms: number, what: string) {
  const deadline = Date.now() + ms;
  while (!check()) {
    assert.ok(Date.now() < deadline, what);
    await sleep(20);
  }
}

describe("a runc whose kill hangs", () => {
  const f = wrappedRuncFixture("stuck", { hang: "kill" });

  it(
    "review #14: RemoveContainer and DestroySandbox fall back to SIGKILL, bounded, and a new sandbox can follow",
    TEST,
    async () => {
      // A running container with a PID namespace of its own dies by SIGKILL to its init: no runc kill.
      await f.rpc.call("createContainer", { containerId: "k0", OCI: f.spec(["sleep", "1000"]) }, T);
      await f.rpc.call("startContainer", { containerId: "k0" }, T);
      let t0 = performance.now();
      await f.rpc.call("removeContainer", { containerId: "k0" }, 30_000);
      assert.ok(performance.now() - t0 < 2_000, "the removal did not wait for runc kill");
      f.assertNoContainerLeft(["k0"]);

      // One in the sandbox's PID namespace goes through runc kill, which hangs.
      const shared = { sandboxPidns: true, OCI: f.spec(["sleep", "1000"]) };
      await f.rpc.call("createContainer", { containerId: "donor", ...shared }, T);
      await f.rpc.call("startContainer", { containerId: "donor" }, T);
      await f.rpc.call("createContainer", { containerId: "k1", ...shared }, T);
      await f.rpc.call("startContainer", { containerId: "k1" }, T);
      t0 = performance.now();
      await f.rpc.call("removeContainer", { containerId: "k1" }, 30_000);
      assert.ok(performance.now() - t0 < 20_000, "the removal was bounded");
      await f.rpc.call("removeContainer", { containerId: "donor" }, 30_000);
      f.assertNoContainerLeft(["k1", "donor"]);

      // A paused container takes SIGKILL only once thawed: the fallback thaws it.
      await f.rpc.call("createContainer", { containerId: "k2", OCI: f.spec(["sleep", "1000"]) }, T);
      await f.rpc.call("startContainer", { containerId: "k2" }, T);
      await f.rpc.call("pauseContainer", { containerId: "k2" }, T);
      await f.rpc.call("destroySandbox", {}, 30_000);
      f.assertNoContainerLeft(["k2"]);
      await f.rpc.call("createSandbox", { sandboxId: "stuck", hostname: "stuck" }, T);
    },
  );
});

describe("a runc whose exec answers 2 s after the process started", () => {
  const f = wrappedRuncFixture("late-exec", { late: { verb: "exec", seconds: 2 } });

  it(
    "review #10: an exec whose runc returns after RemoveContainer began is killed and released, and fails naming the container",
    TEST,
    async () => {
      await f.rpc.call("createContainer", { containerId: "r1", OCI: f.spec(["sleep", "1000"]) }, T);
      await f.rpc.call("startContainer", { containerId: "r1" }, T);
      const fds = fdCount(f.agent.pid);
      const started = exec(f, "r1", "e1", ["sleep", "7001"]).then(
        () => assert.fail("ExecProcess succeeded on a container being removed"),
        (error: unknown) => error,
      );
      await eventually(() => running("sleep 7001") !== "", 5000, "the exec's process runs");
      await f.rpc.call("removeContainer", { containerId: "r1" }, T);
      assert.ok(failsWith(Code.FAILED_PRECONDITION, /container r1 is being removed/)(await started));
      assert.equal(running("sleep 7001"), "");
      assert.ok(fdCount(f.agent.pid) <= fds, `the agent holds ${fdCount(f.agent.pid) - fds} more fds`);
      f.assertNoContainerLeft(["r1"]);
    },
  );

  it("review #15: an ExecProcess whose caller has gone is killed and released", TEST, async () => {
    await f.rpc.call("createContainer", { containerId: "r2", OCI: f.spec(["sleep", "1000"]) }, T);
    await f.rpc.call("startContainer", { containerId: "r2" }, T);
    const fds = fdCount(f.agent.pid);
    await assert.rejects(exec(f, "r2", "e2", ["sleep", "7002"], { timeoutMs: 700 }), deadlinePassed);
    await sleep(2500);
    assert.equal(running("sleep 7002"), "");
    await assert.rejects(waitFor(f, "r2", "e2"), failsWith(Code.NOT_FOUND, /e2/));
    assert.ok(fdCount(f.agent.pid) <= fds, `the agent holds ${fdCount(f.agent.pid) - fds} more fds`);
    await f.rpc.call("removeContainer", { containerId: "r2" }, T);
  });
});

describe("a runc whose start answers 2 s after the container started", () => {
  // A version whose start berth leaves to `runc start` (runc 1.0 to 1.3 it starts by their exec FIFO).
  const f = wrappedRuncFixture("late-start", { late: { verb: "start", seconds: 2 }, version: "1.4.0" });

  it(
    "review #15: a StartContainer whose caller has gone once runc start has run leaves the container stopped",
    TEST,
    async () => {
      await f.rpc.call("createContainer", { containerId: "s1", OCI: f.spec(["sleep", "1000"]) }, T);
      await assert.rejects(f.rpc.call("startContainer", { containerId: "s1" }, 700), deadlinePassed);
      assert.equal(await waitFor(f, "s1", "", 10_000), 137);
      await f.rpc.call("removeContainer", { containerId: "s1" }, T);
      f.assertNoContainerLeft(["s1"]);
    },
  );
});

describe("a runc whose delete leaves the memory cgroup behind", () => {
  // A version whose delete berth leaves to `runc delete` (runc 1.0 to 1.3's it does itself).
  const f = wrappedRuncFixture("left-cgroup", { leaveCgroup: "memory", version: "1.4.0" });

  it("RemoveContainer removes the cgroup runc delete left, and leaves nothing", TEST, async () => {
    await f.rpc.call("createContainer", { containerId: "c1", OCI: f.spec(["sleep", "1000"]) }, T);
    await f.rpc.call("startContainer", { containerId: "c1" }, T);
    await f.rpc.call("removeContainer", { containerId: "c1" }, T);
    f.assertNoContainerLeft(["c1"]);
  });
});

describe("WaitProcess ended by its caller", () => {
  const f = sandboxFixture("abandoned");

  it(
    "review #7: a WaitProcess whose caller has gone releases nothing: a later wait gets the status",
    TEST,
    async () => {
      await f.rpc.call("createContainer", { containerId: "w1", OCI: f.spec(["sleep", "1000"]) }, T);
      await f.rpc.call("startContainer", { containerId: "w1" }, T);
      await exec(f, "w1", "e3", ["sh", "-c", "sleep 1; exit 3"]);
      await assert.rejects(waitFor(f, "w1", "e3", 200), deadlinePassed);
      await sleep(1500);
      assert.equal(await waitFor(f, "w1", "e3"), 3);
      await f.rpc.call("removeContainer", { containerId: "w1" }, T);
    },
  );
});
