import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { lastRuncError } from "./runc.js";

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
