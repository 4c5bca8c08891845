import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { Code } from "../../src/protocol/ttrpc/code.js";
import { TtrpcError } from "../../src/protocol/ttrpc/status.js";
import { Fixture, failsWith } from "../support/container-fixture.js";
import { childrenOf } from "../support/leftovers.js";
import { sleep, T } from "../support/process-helpers.js";

const TEST = { timeout: 60_000 };

/** A container whose creation takes `seconds` (a prestart hook sleeps; its argument marks it). */
function slowSpec(f: Fixture, seconds: string) {
  const spec = f.spec(["sleep", "1000"]);
  spec.Hooks = { Prestart: [{ Path: "/bin/sleep", Args: ["sleep", seconds] }] };
  return spec;
}

/** Processes whose command line is exactly `cmdline`. */
function running(cmdline: string): string {
  try {
    return execFileSync("pgrep", ["-xf", cmdline], { encoding: "utf8" }).trim();
  } catch {
    return "";
  }
}

/** The container can be created, started and removed (its id is free and works). */
async function idWorks(f: Fixture, id: string) {
  await f.rpc.call("createContainer", { containerId: id, execId: id, OCI: f.spec(["sleep", "1000"]) }, T);
  await f.rpc.call("startContainer", { containerId: id }, T);
  await f.rpc.call("removeContainer", { containerId: id }, T);
  f.assertNoContainerLeft([id]);
}

describe("CreateContainer ended while it runs", () => {
  const f = new Fixture();
  before(() => f.start());
  after(async () => {
    await f.rpc?.call("destroySandbox", {}, T).catch(() => {});
    await f.stop();
  });

  it(
    "review #5: DestroySandbox during CreateContainer ends the creation, waits for its rollback, and leaves nothing",
    TEST,
    async () => {
      await f.rpc.call("createSandbox", { sandboxId: "sb", hostname: "sb" }, T);
      const create = f.rpc.call("createContainer", { containerId: "c1", OCI: slowSpec(f, "3.01") }, T);
      let createEnded = false;
      const outcome = create.then(
        () => assert.fail("CreateContainer succeeded in a destroyed sandbox"),
        (error: unknown) => {
          createEnded = true;
          return error;
        },
      );
      await sleep(1200);
      await f.rpc.call("destroySandbox", {}, T);
      assert.ok(createEnded, "DestroySandbox returned before the creation had ended");
      assert.ok(
        failsWith(
          Code.ABORTED,
          /sandbox sb was destroyed while container c1 was being created/,
        )(await outcome),
      );
      f.assertNoContainerLeft(["c1"]);
      assert.equal(running("sleep 3.01"), "", "the prestart hook was killed with runc");

      await f.rpc.call("createSandbox", { sandboxId: "sb2", hostname: "sb2" }, T);
      await idWorks(f, "c1");
      await f.rpc.call("destroySandbox", {}, T);
    },
  );

  it(
    "review #5: RemoveContainer of an id still being created ends the creation and answers once nothing of it is left",
    TEST,
    async () => {
      await f.rpc.call("createSandbox", { sandboxId: "sb", hostname: "sb" }, T);
      const create = f.rpc.call("createContainer", { containerId: "c2", OCI: slowSpec(f, "3.02") }, T);
      const outcome = create.then(
        () => assert.fail("CreateContainer succeeded after RemoveContainer"),
        (error: unknown) => error,
      );
      await sleep(1200);
      await f.rpc.call("removeContainer", { containerId: "c2" }, T);
      f.assertNoContainerLeft(["c2"]);
      assert.ok(
        failsWith(Code.ABORTED, /container c2 was removed while it was being created/)(await outcome),
      );
      await assert.rejects(
        f.rpc.call("startContainer", { containerId: "c2" }, T),
        failsWith(Code.NOT_FOUND, /c2/),
      );
      await idWorks(f, "c2");
      await f.rpc.call("destroySandbox", {}, T);
    },
  );

  it(
    "review #15: a CreateContainer whose deadline passes is rolled back in full, runc and its hook killed",
    TEST,
    async () => {
      await f.rpc.call("createSandbox", { sandboxId: "sb", hostname: "sb" }, T);
      const t0 = performance.now();
      await assert.rejects(
        f.rpc.call("createContainer", { containerId: "c3", OCI: slowSpec(f, "3.03") }, 1000),
        (e: unknown) => e instanceof TtrpcError && e.code === Code.DEADLINE_EXCEEDED,
      );
      // The rollback needs no hook to finish: runc is killed at the deadline.
      while (childrenOf(f.agent.pid).some(([, comm]) => comm === "runc")) {
        assert.ok(performance.now() - t0 < 2500, "runc create still runs after the deadline");
        await sleep(20);
      }
      await sleep(300);
      f.assertNoContainerLeft(["c3"]);
      assert.equal(running("sleep 3.03"), "");
      await idWorks(f, "c3");
      await f.rpc.call("destroySandbox", {}, T);
    },
  );

  it(
    "review #11: a runc create SIGKILLed in its prestart hook leaves no runc state or cgroup, and the id works again",
    TEST,
    async () => {
      await f.rpc.call("createSandbox", { sandboxId: "sb", hostname: "sb" }, T);
      const create = f.rpc.call("createContainer", { containerId: "c4", OCI: slowSpec(f, "3.04") }, T);
      await sleep(1200);
      const runc = childrenOf(f.agent.pid).find(
        ([pid, comm]) =>
          comm === "runc" && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("\0create\0"),
      );
      assert.ok(runc, "runc create runs");
      process.kill(runc[0], "SIGKILL");
      await assert.rejects(create, (e: unknown) => e instanceof TtrpcError);
      f.assertNoContainerLeft(["c4"]);
      await idWorks(f, "c4");
      await f.rpc.call("destroySandbox", {}, T);
    },
  );
});
