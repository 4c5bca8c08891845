import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "../errors.js";
import { lastRuncError, pidsFromRuncPs } from "./runc.js";

describe("lastRuncError()", () => {
  it("takes the last error runc logged", () => {
    const log = [
      '{"level":"warning","msg":"a warning","time":"t"}',
      '{"level":"error","msg":"first","time":"t"}',
      '{"level":"error","msg":"runc create failed: unable to start container process","time":"t"}',
      '{"level":"info","msg":"after","time":"t"}',
    ].join("\n");
    assert.equal(lastRuncError(log), "runc create failed: unable to start container process");
  });

  it("skips a torn line and reports nothing when there is no error", () => {
    assert.equal(lastRuncError('{"level":"info","msg":"x"}\n{"level":"err'), undefined);
    assert.equal(lastRuncError(""), undefined);
  });
});

describe("pidsFromRuncPs()", () => {
  it("reads runc's JSON pid list, null being none", () => {
    assert.deepEqual(pidsFromRuncPs("[12,345]\n"), [12, 345]);
    assert.deepEqual(pidsFromRuncPs("null"), []);
    assert.deepEqual(pidsFromRuncPs("[]"), []);
  });

  it("refuses anything else with INTERNAL", () => {
    for (const text of ["", "{", '{"pid":1}', '["1"]', "[0]", "[1.5]", "[-3]"]) {
      assert.throws(
        () => pidsFromRuncPs(text),
        (e: { code: Code }) => e.code === Code.INTERNAL,
        text,
      );
    }
  });
});
