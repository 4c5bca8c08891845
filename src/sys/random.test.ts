import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { randomHex } from "./random.js";

describe("randomHex", () => {
  it("gives the bytes asked for, different each time", () => {
    const a = randomHex(8);
    assert.match(a, /^[0-9a-f]{16}$/);
    assert.notEqual(randomHex(8), a);
    assert.equal(randomHex(0), "");
  });
});
