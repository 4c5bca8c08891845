import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import { throttleKey, throttlesOf, throttleWrite } from "./blkio-throttle.js";

describe("throttlesOf()", () => {
  it("lists every throttle of every kind, exact beyond 2^53", () => {
    const throttles = throttlesOf({
      weight: 300,
      throttleReadBpsDevice: [{ major: 254, minor: 0, rate: 1048576 }],
      throttleWriteBpsDevice: [{ major: 8, minor: 16, rate: 18446744073709551615n }],
      throttleReadIOPSDevice: [{ major: 254, minor: 0, rate: 0 }],
      throttleWriteIOPSDevice: [{ major: 7, minor: 1, rate: 100 }],
    });
    assert.deepEqual(throttles, [
      { kind: "rbps", device: "254:0", rate: 1048576n },
      { kind: "wbps", device: "8:16", rate: 18446744073709551615n },
      { kind: "riops", device: "254:0", rate: 0n },
      { kind: "wiops", device: "7:1", rate: 100n },
    ]);
    assert.deepEqual(throttles.map(throttleKey), ["254:0 rbps", "8:16 wbps", "254:0 riops", "7:1 wiops"]);
  });

  it("has none without block IO or throttles", () => {
    assert.deepEqual(throttlesOf(undefined), []);
    assert.deepEqual(throttlesOf({ weight: 10 }), []);
  });

  it("refuses a negative or oversized device number and a negative rate", () => {
    for (const t of [
      { major: -1, minor: 0, rate: 1 },
      { major: 8, minor: 2 ** 32, rate: 1 },
      { major: 8, minor: 0, rate: -5 },
    ]) {
      assert.throws(
        () => throttlesOf({ throttleReadBpsDevice: [t] }),
        (e) =>
          e instanceof AgentError && e.code === Code.INVALID_ARGUMENT && /block IO throttle/.test(e.message),
      );
    }
  });
});

describe("throttleWrite()", () => {
  it("writes v1's blkio.throttle.* files, 0 lifting the limit", () => {
    assert.deepEqual(throttleWrite({ kind: "rbps", device: "254:0", rate: 1048576n }, 1), {
      file: "blkio.throttle.read_bps_device",
      line: "254:0 1048576",
    });
    assert.deepEqual(throttleWrite({ kind: "wiops", device: "8:0", rate: 0n }, 1), {
      file: "blkio.throttle.write_iops_device",
      line: "8:0 0",
    });
  });

  it("writes v2's io.max, 0 as max", () => {
    assert.deepEqual(throttleWrite({ kind: "wbps", device: "8:16", rate: 5n }, 2), {
      file: "io.max",
      line: "8:16 wbps=5",
    });
    assert.deepEqual(throttleWrite({ kind: "riops", device: "8:16", rate: 0n }, 2), {
      file: "io.max",
      line: "8:16 riops=max",
    });
  });
});
