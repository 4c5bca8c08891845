import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { trimMemorySoon } from "./memory-trim.js";
import { native } from "./native.js";

describe("trimMemorySoon()", () => {
  it("trims once, after the calls have stopped for the quiet time", async () => {
    let trims = 0;
    const trim = () => {
      trims++;
      return true;
    };
    for (let i = 0; i < 5; i++) {
      trimMemorySoon(40, trim);
      await sleep(10);
    }
    assert.equal(trims, 0, "not while the calls go on");
    await sleep(80);
    assert.equal(trims, 1);
  });

  it("calls malloc_trim, which answers whether it gave pages back", () => {
    assert.equal(typeof native().trimMemory(), "boolean");
  });
});
