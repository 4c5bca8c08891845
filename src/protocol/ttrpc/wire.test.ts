import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import {
  int64Halves,
  varint64Size,
  varintSize,
  WIRE_LEN,
  WireError,
  WireReader,
  writeVarint,
  writeVarint64,
} from "./wire.js";

const INT64_SAMPLES = [
  0n,
  1n,
  127n,
  128n,
  300n,
  2n ** 31n - 1n,
  2n ** 31n,
  2n ** 32n - 1n,
  2n ** 32n,
  2n ** 35n - 1n,
  2n ** 35n,
  9_999_979_189n,
  2n ** 53n + 1n,
  2n ** 63n - 1n,
  -1n,
  -(2n ** 31n),
  -(2n ** 63n),
];

function ours(value: bigint): Buffer {
  const [lo, hi] = int64Halves(value);
  const buf = Buffer.alloc(varint64Size(lo, hi));
  assert.equal(writeVarint64(buf, 0, lo, hi), buf.length);
  return buf;
}

describe("wire varints, checked against protobuf-es", () => {
  it("encodes int64 values exactly as BinaryWriter does", () => {
    for (const v of INT64_SAMPLES) {
      assert.deepEqual(ours(v), Buffer.from(new BinaryWriter().int64(v).finish()), `value ${v}`);
    }
  });

  it("encodes uint32 values exactly as BinaryWriter does", () => {
    for (const v of [
      0, 1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 268_435_455, 268_435_456, 0xffff_ffff,
    ]) {
      const buf = Buffer.alloc(varintSize(v));
      assert.equal(writeVarint(buf, 0, v), buf.length);
      assert.deepEqual(buf, Buffer.from(new BinaryWriter().uint32(v).finish()), `value ${v}`);
    }
  });

  it("decodes what BinaryWriter encodes", () => {
    for (const v of INT64_SAMPLES) {
      const bytes = Buffer.from(new BinaryWriter().int64(v).finish());
      const r = new WireReader(bytes);
      assert.equal(r.int64(), v);
      assert.ok(r.done);
      assert.equal(BigInt(new BinaryReader(ours(v)).int64()), v);
    }
  });

  it("skips every wire type as BinaryReader does", () => {
    const w = new BinaryWriter()
      .tag(1, WireType.Varint)
      .int64(-5n)
      .tag(2, WireType.Bit64)
      .fixed64(7n)
      .tag(3, WireType.LengthDelimited)
      .bytes(Uint8Array.of(1, 2, 3))
      .tag(4, WireType.Bit32)
      .fixed32(9)
      .tag(5, WireType.LengthDelimited)
      .string("end");
    const r = new WireReader(Buffer.from(w.finish()));
    for (let field = 1; field <= 4; field++) {
      const tag = r.tag();
      assert.equal(tag >>> 3, field);
      r.skip(tag & 7);
    }
    assert.equal(r.tag(), (5 << 3) | WIRE_LEN);
    assert.equal(r.string(), "end");
    assert.ok(r.done);
  });

  for (const [name, bytes] of [
    ["a truncated varint", [0x80]],
    ["an 11-byte varint", [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
    ["a length past the end", [0x0a, 0x05, 0x41]],
    ["field number 0", [0x02, 0x00]],
    ["a group (wire type 3)", [0x0b]],
  ] as const) {
    it(`rejects ${name}`, () => {
      const r = new WireReader(Buffer.from(bytes));
      assert.throws(() => {
        while (!r.done) {
          const tag = r.tag();
          if ((tag & 7) === WIRE_LEN) r.bytes();
          else r.skip(tag & 7);
        }
      }, WireError);
    });
  }
});
