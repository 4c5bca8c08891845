import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_UINT64, parseBlkioFile, parseFlatKeyed, parseNestedKeyed, parseUint } from "./stat-files.js";

describe("parseUint()", () => {
  it("takes decimal digits up to 2^64 - 1 and nothing else", () => {
    assert.equal(parseUint("0"), 0n);
    assert.equal(parseUint("18446744073709551615"), MAX_UINT64);
    for (const bad of ["18446744073709551616", "", "-1", "1.5", " 1", "max", "0x10", "1e3"])
      assert.equal(parseUint(bad), undefined, bad);
  });
});

describe("parseFlatKeyed()", () => {
  it("reads key-value lines and skips the malformed", () => {
    const parsed = parseFlatKeyed("cache 5\n\nrss x\nthree fields 1\n  swap   7  \nnegative -2\n");
    assert.deepEqual(
      [...parsed],
      [
        ["cache", 5n],
        ["swap", 7n],
      ],
    );
  });
});

describe("parseBlkioFile()", () => {
  it("reads device lines with and without an op, skips the Total line and garbage", () => {
    assert.deepEqual(parseBlkioFile("8:0 Read 10\n8:16 6792\nTotal 10\n8:x Read 1\n8:0 Read\n"), [
      { major: 8n, minor: 0n, op: "Read", value: 10n },
      { major: 8n, minor: 16n, op: "", value: 6792n },
    ]);
  });
});

describe("parseNestedKeyed()", () => {
  it("reads key=value pairs per line, skipping pairs without a number", () => {
    assert.deepEqual(parseNestedKeyed("8:0 rbytes=1 wbytes=x =3 dios=4\n\n"), [
      {
        device: "8:0",
        values: new Map([
          ["rbytes", 1n],
          ["dios", 4n],
        ]),
      },
    ]);
  });
});
