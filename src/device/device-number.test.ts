import assert from "node:assert/strict";
import { existsSync, statSync } from "node:fs";
import { describe, it } from "node:test";
import { deviceNumber } from "./device-number.js";

/** glibc's makedev(), for building test values. */
function makedev(major: number, minor: number): bigint {
  const M = BigInt(major);
  const m = BigInt(minor);
  return ((M & 0xfffn) << 8n) | ((M & 0xfffff000n) << 32n) | (m & 0xffn) | ((m & 0xffffff00n) << 12n);
}

describe("deviceNumber()", () => {
  it("splits /dev/null's rdev into 1:3", () => {
    assert.deepEqual(deviceNumber(statSync("/dev/null", { bigint: true }).rdev), { major: 1, minor: 3 });
    assert.deepEqual(
      deviceNumber(statSync("/dev/null").rdev),
      { major: 1, minor: 3 },
      "from a plain number too",
    );
  });

  it("splits /dev/loop0's rdev into 7:0", { skip: !existsSync("/dev/loop0") }, () => {
    assert.deepEqual(deviceNumber(statSync("/dev/loop0", { bigint: true }).rdev), { major: 7, minor: 0 });
  });

  for (const [major, minor] of [
    [0, 0],
    [8, 16],
    [254, 0],
    [259, 1],
    [4095, 255],
    [4096, 256],
    [511, 1048575],
    [0xfffff, 0xfffff],
    [0xffffffff, 0xffffffff],
  ] satisfies [number, number][]) {
    it(`round-trips makedev(${major}, ${minor}), beyond 32 bits as well`, () => {
      assert.deepEqual(deviceNumber(makedev(major, minor)), { major, minor });
    });
  }

  it("reads the layout MMMMMmmmmmmMMMmm", () => {
    assert.deepEqual(deviceNumber(0xabcde12345678f9an), { major: 0xabcde78f, minor: 0x1234569a });
  });
});
