import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parsePciAddress } from "./pci-address.js";

describe("parsePciAddress()", () => {
  it("gives the kernel's spelling of an address", () => {
    assert.equal(parsePciAddress("0000:3b:00.0"), "0000:3b:00.0");
    assert.equal(parsePciAddress("0000:3B:1F.7"), "0000:3b:1f.7");
    assert.equal(parsePciAddress("0:2:3.1"), "0000:02:03.1");
    assert.equal(parsePciAddress("ffff:ff:00.0"), "ffff:ff:00.0");
  });

  it("refuses what is not an address", () => {
    for (const text of [
      "",
      "0000:3b:00",
      "3b:00.0",
      "0000:3b:20.0",
      "0000:3b:00.8",
      "00000:3b:00.0",
      "0000:3b:00.0 ",
      "mlx5_core.sf.10",
      "0000:3b:00.0,0000:3b:00.1",
    ]) {
      assert.equal(parsePciAddress(text), undefined, text);
    }
  });
});
