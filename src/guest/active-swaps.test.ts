import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseProcSwaps } from "./active-swaps.js";

describe("parseProcSwaps", () => {
  it("reads each area's path, unescaping what the kernel escaped, and nothing from the header", () => {
    const text =
      "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n" +
      "/dev/vdb                                partition\t65532\t\t0\t\t-2\n" +
      "/run/swap\\040file                       file\t\t40\t\t0\t\t-3\n";
    assert.deepEqual([...parseProcSwaps(text)], ["/dev/vdb", "/run/swap file"]);
  });

  it("is empty when no swap is in use", () => {
    assert.equal(parseProcSwaps("Filename\tType\tSize\tUsed\tPriority\n").size, 0);
    assert.equal(parseProcSwaps("").size, 0);
  });
});
