import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { handlesSignal, maskHas } from "./signals.js";

describe("maskHas()", () => {
  it("reads the signal's bit from a /proc status mask", () => {
    assert.equal(maskHas("0000000000004000", 15), true);
    assert.equal(maskHas("0000000000004000", 9), false);
    assert.equal(maskHas("8000000000000000", 64), true);
    assert.equal(maskHas("zz", 15), false);
    assert.equal(maskHas("1", 0), false);
  });
});

describe("handlesSignal()", () => {
  it("sees that node handles SIGINT and not SIGHUP, and says false for a gone pid", async () => {
    process.on("SIGINT", () => {});
    assert.equal(await handlesSignal(process.pid, 2), true);
    assert.equal(await handlesSignal(2 ** 22 + 1, 15), false);
  });
});
