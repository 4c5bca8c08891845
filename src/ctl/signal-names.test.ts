import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UsageError } from "./ctl-error.js";
import { parseSignal, signalNames } from "./signal-names.js";

describe("parseSignal()", () => {
  it("reads names with or without SIG, in any case, and numbers", () => {
    assert.equal(parseSignal("TERM"), 15);
    assert.equal(parseSignal("SIGKILL"), 9);
    assert.equal(parseSignal("int"), 2);
    assert.equal(parseSignal("9"), 9);
    assert.equal(parseSignal("34"), 34);
  });

  it("refuses unknown names and numbers out of range", () => {
    for (const text of ["BOGUS", "0", "65", "-9", "SIG", "constructor"]) {
      assert.throws(() => parseSignal(text), UsageError, text);
    }
  });

  it("lists names without SIG for completion", () => {
    assert.ok(signalNames().includes("TERM"));
    assert.ok(signalNames().every((name) => !name.startsWith("SIG")));
  });
});
