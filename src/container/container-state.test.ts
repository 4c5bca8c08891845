import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "../errors.js";
import { checkMove } from "./container-state.js";

describe("checkMove()", () => {
  it("allows created → running → paused → running → stopped", () => {
    checkMove("c1", "created", "running");
    checkMove("c1", "running", "paused");
    checkMove("c1", "paused", "running");
    checkMove("c1", "running", "stopped");
    checkMove("c1", "created", "stopped");
  });

  it("refuses illegal moves with FAILED_PRECONDITION naming both states", () => {
    for (const [from, to] of [
      ["running", "running"],
      ["stopped", "running"],
      ["created", "paused"],
      ["stopped", "stopped"],
    ] as const) {
      assert.throws(
        () => checkMove("c1", from, to),
        (e: { code: Code; message: string }) =>
          e.code === Code.FAILED_PRECONDITION &&
          e.message === `container c1 is ${from}: it cannot become ${to}`,
      );
    }
  });
});
