import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code } from "../../src/protocol/ttrpc/code.js";
import { Fixture, failsWith } from "../support/container-fixture.js";
import { sleep, stillPending, T } from "../support/process-helpers.js";

const TEST = { timeout: 60_000 };

describe("DestroySandbox while it runs", () => {
  const f = new Fixture();
  before(() => f.start());
  after(async () => {
    await f.rpc?.call("destroySandbox", {}, T).catch(() => {});
    await f.stop();
  });

  it(
    "refuses CreateSandbox and every call on the old sandbox at once, joins a second DestroySandbox, then lets a new sandbox be created",
    TEST,
    async () => {
      await f.rpc.call("createSandbox", { sandboxId: "old", hostname: "old" }, T);
      // runc delete runs the poststop hook: removing this container, so destroying the sandbox, takes 2 s.
      const spec = f.spec(["sleep", "1000"]);
      spec.Hooks = { Poststop: [{ Path: "/bin/sleep", Args: ["sleep", "2"] }] };
      await f.rpc.call(
        "createContainer",
        { containerId: "destroy-slow", execId: "destroy-slow", OCI: spec },
        T,
      );
      await f.rpc.call("startContainer", { containerId: "destroy-slow" }, T);

      const destroy = f.rpc.call("destroySandbox", {}, T);
      await sleep(100); // the agent has taken the call up
      const again = f.rpc.call("destroySandbox", {}, T);
      const t0 = performance.now();
      await assert.rejects(
        f.rpc.call("createSandbox", { sandboxId: "new", hostname: "new" }, T),
        failsWith(Code.FAILED_PRECONDITION, /sandbox old is being destroyed: CreateSandbox new can follow/),
      );
      await assert.rejects(
        f.rpc.call("createContainer", { containerId: "late", OCI: f.spec(["true"]) }, T),
        failsWith(Code.FAILED_PRECONDITION, /sandbox old is being destroyed/),
      );
      await assert.rejects(
        f.rpc.call("statsContainer", { containerId: "destroy-slow" }, T),
        failsWith(Code.FAILED_PRECONDITION, /sandbox old is being destroyed/),
      );
      const took = performance.now() - t0;
      assert.ok(took < 1000, `the refusals took ${took.toFixed(0)} ms`);
      assert.ok(await stillPending(destroy, 0), "the poststop hook still runs");

      await Promise.all([destroy, again]);
      assert.ok(performance.now() - t0 >= 1500, "DestroySandbox waited for the container's removal");
      f.assertNoContainerLeft(["destroy-slow"]);
      await f.rpc.call("createSandbox", { sandboxId: "new", hostname: "new" }, T);
      await assert.rejects(
        f.rpc.call("createSandbox", { sandboxId: "newer", hostname: "newer" }, T),
        failsWith(Code.ALREADY_EXISTS, /a sandbox \(new\) is running/),
      );
      await f.rpc.call("destroySandbox", {}, T);
      await assert.rejects(
        f.rpc.call("destroySandbox", {}, T),
        failsWith(Code.FAILED_PRECONDITION, /no sandbox/),
      );
    },
  );
});
