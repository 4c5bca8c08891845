import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createFrameDecoder, type DecodedFrame, encodeFrame, HEADER_LENGTH, MessageType } from "./frame.js";
import { GOLDEN_CHECK_REQUEST, GOLDEN_CHECK_RESPONSE } from "./golden.test-util.js";

function frames(decoded: DecodedFrame[]) {
  return decoded.map((f) =>
    f.kind === "frame"
      ? {
          streamId: f.streamId,
          type: f.type,
          flags: f.flags,
          payload: Buffer.from(f.payload).toString("hex"),
        }
      : { oversized: f.length, streamId: f.streamId },
  );
}

describe("encodeFrame()", () => {
  it("writes the captured containerd/ttrpc response byte for byte", () => {
    const out = encodeFrame(1, MessageType.RESPONSE, 0, Buffer.from("12020801", "hex"));
    assert.deepEqual(out, GOLDEN_CHECK_RESPONSE);
  });

  it("writes big-endian length and stream id", () => {
    const out = encodeFrame(0x01020304, 0x03, 0x05, new Uint8Array(0x0a0b));
    assert.equal(out.subarray(0, HEADER_LENGTH).toString("hex"), "00000a0b010203040305");
  });
});

describe("createFrameDecoder()", () => {
  const expected = [
    {
      streamId: 1,
      type: MessageType.REQUEST,
      flags: 0,
      payload: GOLDEN_CHECK_REQUEST.subarray(HEADER_LENGTH).toString("hex"),
    },
  ];

  it("decodes the captured request in one chunk", () => {
    assert.deepEqual(frames(createFrameDecoder().push(GOLDEN_CHECK_REQUEST)), expected);
  });

  it("decodes the captured request split at every offset", () => {
    for (let cut = 1; cut < GOLDEN_CHECK_REQUEST.length; cut++) {
      const d = createFrameDecoder();
      const got = [
        ...d.push(GOLDEN_CHECK_REQUEST.subarray(0, cut)),
        ...d.push(GOLDEN_CHECK_REQUEST.subarray(cut)),
      ];
      assert.deepEqual(frames(got), expected, `cut at ${cut}`);
      assert.equal(d.buffered, 0);
    }
  });

  it("decodes one byte at a time", () => {
    const d = createFrameDecoder();
    const got: DecodedFrame[] = [];
    for (const byte of GOLDEN_CHECK_REQUEST) got.push(...d.push(Uint8Array.of(byte)));
    assert.deepEqual(frames(got), expected);
  });

  it("returns every frame of a chunk in order, including empty payloads", () => {
    const chunk = Buffer.concat([
      encodeFrame(1, 1, 0, Buffer.from("aa", "hex")),
      encodeFrame(3, 1, 0, new Uint8Array(0)),
      encodeFrame(5, 3, 4, Buffer.from("bbcc", "hex")),
    ]);
    assert.deepEqual(frames(createFrameDecoder().push(chunk)), [
      { streamId: 1, type: 1, flags: 0, payload: "aa" },
      { streamId: 3, type: 1, flags: 0, payload: "" },
      { streamId: 5, type: 3, flags: 4, payload: "bbcc" },
    ]);
  });

  it("decodes an empty payload whose header arrives in pieces", () => {
    const d = createFrameDecoder();
    const f = encodeFrame(7, 1, 0, new Uint8Array(0));
    assert.deepEqual(d.push(f.subarray(0, 4)), []);
    assert.deepEqual(frames(d.push(f.subarray(4))), [{ streamId: 7, type: 1, flags: 0, payload: "" }]);
  });

  it("reports an oversized frame once, skips its payload and stays in step", () => {
    const d = createFrameDecoder(8);
    const big = encodeFrame(9, 1, 0, Buffer.alloc(20, 0xee));
    const next = encodeFrame(11, 1, 0, Buffer.from("0102", "hex"));
    const got = [
      ...d.push(big.subarray(0, 13)),
      ...d.push(big.subarray(13, 25)),
      ...d.push(Buffer.concat([big.subarray(25), next])),
    ];
    assert.deepEqual(frames(got), [
      { oversized: 20, streamId: 9 },
      { streamId: 11, type: 1, flags: 0, payload: "0102" },
    ]);
  });

  it("accepts a payload of exactly the limit", () => {
    const d = createFrameDecoder(4);
    assert.equal(d.push(encodeFrame(1, 1, 0, Buffer.alloc(4)))[0]?.kind, "frame");
    assert.equal(d.push(encodeFrame(3, 1, 0, Buffer.alloc(5)))[0]?.kind, "oversized");
  });

  it("assembles a large payload from many chunks", () => {
    const payload = Buffer.alloc(300_000);
    for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
    const whole = encodeFrame(1, 1, 0, payload);
    const d = createFrameDecoder();
    const got: DecodedFrame[] = [];
    for (let off = 0; off < whole.length; off += 65_536)
      got.push(...d.push(whole.subarray(off, off + 65_536)));
    assert.equal(got.length, 1);
    const [frame] = got;
    assert.ok(frame?.kind === "frame");
    assert.ok(Buffer.from(frame.payload).equals(payload));
  });

  it("asks before gathering a payload that did not come whole, and discards one it may not gather", () => {
    const asked: number[] = [];
    const decoder = createFrameDecoder(1 << 20, {
      admit: (h) => {
        asked.push(h.streamId);
        return h.streamId !== 3;
      },
    });
    const big = (id: number) => encodeFrame(id, MessageType.REQUEST, 0, new Uint8Array(5000).fill(id));
    const wire = Buffer.concat([
      big(1),
      big(3),
      big(5),
      encodeFrame(7, MessageType.REQUEST, 0, Uint8Array.of(7)),
    ]);
    const out: DecodedFrame[] = [];
    for (let i = 0; i < wire.length; i += 1000) {
      out.push(...decoder.push(wire.subarray(i, i + 1000)));
      assert.ok(decoder.buffered <= 5000 + HEADER_LENGTH);
    }
    assert.deepEqual(
      out.map((f) => [f.kind, f.streamId]),
      [
        ["frame", 1],
        ["refused", 3],
        ["frame", 5],
        ["frame", 7],
      ],
    );
    assert.deepEqual(asked, [1, 3, 5], "a payload that came whole is not asked about");
    assert.equal(decoder.assembling, false);
  });
});
