import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPrng } from "../../../test/support/prng.js";
import { MuxParser, type ParserSink } from "./parser.js";
import {
  encodeCredit,
  encodeHeader,
  encodeRecord,
  FrameType,
  MAGIC,
  MAX_DATA,
  PAD,
  SyncKind,
} from "./wire.js";

function recorder() {
  const events: string[] = [];
  const sink: ParserSink = {
    open: (s) => events.push(`open ${s}`),
    data: (s, b) => events.push(`data ${s} ${b.toString("hex")}`),
    credit: (s, n) => events.push(`credit ${s} ${n}`),
    close: (s) => events.push(`close ${s}`),
    record: (k, nonce) => events.push(`record ${String.fromCharCode(k)} ${nonce.toString("hex")}`),
    invalid: (why) => events.push(`invalid ${why}`),
  };
  return { events, sink };
}

/** Consecutive data pieces of one stream joined, so that events compare whatever the cuts. */
function joined(events: string[]): string[] {
  const out: string[] = [];
  for (const e of events) {
    const last = out[out.length - 1];
    const m = /^data (\d+) (.*)$/.exec(e);
    const lm = last ? /^data (\d+) (.*)$/.exec(last) : null;
    if (m && lm && m[1] === lm[1]) out[out.length - 1] = `data ${m[1]} ${lm[2]}${m[2]}`;
    else out.push(e);
  }
  return out;
}

const NONCE = Buffer.alloc(16, 0xab);

describe("MuxParser", () => {
  it("reads the wire format byte for byte", () => {
    assert.equal(encodeHeader(FrameType.DATA, 0x01020304, 5).toString("hex"), "020102030400000005");
    assert.equal(encodeCredit(7, 65536).toString("hex"), "03000000070000000400010000");
    assert.equal(encodeRecord(SyncKind.ACK, NONCE).toString("hex"), `ff62657274686d7841${"ab".repeat(16)}`);
    assert.equal(MAGIC.subarray(1).toString(), "berthmx");
  });

  it("gives the same events however the bytes are cut, down to one byte at a time", () => {
    const bytes = Buffer.concat([
      Buffer.from("stale junk"),
      encodeRecord(SyncKind.SYNC, NONCE),
      encodeHeader(FrameType.OPEN, 1, 0),
      encodeHeader(FrameType.DATA, 1, 3),
      Buffer.from("abc"),
      Buffer.alloc(5),
      encodeCredit(1, 99),
      encodeRecord(SyncKind.REQUEST, NONCE),
      encodeHeader(FrameType.CLOSE, 1, 0),
    ]);
    const expected = [
      `record S ${NONCE.toString("hex")}`,
      "open 1",
      "data 1 616263",
      "credit 1 99",
      `record R ${NONCE.toString("hex")}`,
      "close 1",
    ];
    for (const step of [1, 2, 3, 7, 9, 25, bytes.length]) {
      const { events, sink } = recorder();
      const parser = new MuxParser({
        ...sink,
        record: (k, n) => {
          sink.record(k, n);
          parser.frame();
        },
      });
      for (let at = 0; at < bytes.length; at += step) parser.push(bytes.subarray(at, at + step));
      assert.deepEqual(joined(events), expected, `cut every ${step} bytes`);
    }
  });

  it("turns to scanning at bytes that are no frame, and finds the next record", () => {
    const { events, sink } = recorder();
    const parser = new MuxParser(sink);
    parser.frame();
    parser.push(
      Buffer.concat([
        encodeHeader(9 as FrameType, 1, 0),
        Buffer.from("xx"),
        encodeRecord(SyncKind.SYNC, NONCE),
      ]),
    );
    assert.deepEqual(events, ["invalid an unknown frame type 9", `record S ${NONCE.toString("hex")}`]);
    assert.equal(parser.scanning, true);
  });

  it("refuses frames of impossible sizes and stream 0", () => {
    for (const [bytes, why] of [
      [encodeHeader(FrameType.DATA, 1, MAX_DATA + 1), `a DATA frame of ${MAX_DATA + 1} bytes`],
      [encodeHeader(FrameType.DATA, 1, 0), "a DATA frame of 0 bytes"],
      [encodeHeader(FrameType.OPEN, 1, 4), "an OPEN frame with 4 payload bytes"],
      [encodeHeader(FrameType.CREDIT, 1, 8), "a CREDIT frame with 8 payload bytes"],
      [encodeHeader(FrameType.CLOSE, 0, 0), "a frame of type 4 on stream 0"],
      [Buffer.concat([MAGIC, Buffer.from("Z"), NONCE]), "a record with a bad magic or kind"],
    ] as const) {
      const { events, sink } = recorder();
      const parser = new MuxParser(sink);
      parser.frame();
      parser.push(bytes);
      assert.deepEqual(events, [`invalid ${why}`]);
    }
  });

  it("ends a frame cut short inside the pad, whatever was cut", () => {
    const record = encodeRecord(SyncKind.SYNC, NONCE);
    for (const cut of [
      encodeHeader(FrameType.DATA, 1, MAX_DATA),
      encodeHeader(FrameType.DATA, 1, MAX_DATA).subarray(0, 8),
      encodeHeader(FrameType.CREDIT, 1, 4),
      Buffer.from([FrameType.DATA]),
    ]) {
      const { events, sink } = recorder();
      const parser = new MuxParser(sink);
      parser.frame();
      parser.push(Buffer.concat([cut, PAD, record]));
      assert.equal(events.at(-1), `record S ${NONCE.toString("hex")}`, cut.toString("hex"));
    }
  });

  it("never throws on garbage, framing or scanning", () => {
    const prng = createPrng(42);
    const { sink } = recorder();
    for (let round = 0; round < 2000; round++) {
      const parser = new MuxParser(sink);
      if (prng.int(2)) parser.frame();
      for (let i = 0; i < 4; i++) {
        const junk = Buffer.from(prng.bytes(prng.int(300)));
        if (prng.int(4) === 0 && junk.length > 10) MAGIC.copy(junk, prng.int(junk.length - 8));
        parser.push(junk);
      }
    }
  });
});
