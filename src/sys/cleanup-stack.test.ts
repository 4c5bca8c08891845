import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import { CleanupStack } from "./cleanup-stack.js";

describe("CleanupStack", () => {
  it("unwinds newest first and empties itself", async () => {
    const order: string[] = [];
    const stack = new CleanupStack();
    stack.push("a", () => order.push("a"));
    stack.push("b", async () => {
      order.push("b");
    });
    stack.push("c", () => order.push("c"));
    await stack.unwind();
    assert.deepEqual(order, ["c", "b", "a"]);
    assert.equal(stack.size, 0);
  });

  it("runs every step even when some fail, then names each failure", async () => {
    const ran: string[] = [];
    const stack = new CleanupStack();
    stack.push("unmount rootfs", () => ran.push("rootfs"));
    stack.push("remove bundle", () => {
      throw new Error("EBUSY");
    });
    stack.push("delete runc container", () => {
      ran.push("runc");
      throw new AgentError(Code.NOT_FOUND, "no such container");
    });
    await assert.rejects(stack.unwind(), (e) => {
      assert.ok(e instanceof AgentError && e.code === Code.INTERNAL);
      assert.equal(
        e.message,
        "cleanup failed: delete runc container: no such container; remove bundle: EBUSY",
      );
      return true;
    });
    assert.deepEqual(ran, ["runc", "rootfs"]);
  });

  it("transfer() hands the steps over and leaves itself empty", async () => {
    const ran: string[] = [];
    const stack = new CleanupStack();
    stack.push("x", () => ran.push("x"));
    const owned = stack.transfer();
    await stack.unwind();
    assert.deepEqual(ran, []);
    await owned.unwind();
    assert.deepEqual(ran, ["x"]);
  });
});
