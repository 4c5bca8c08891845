import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HEADER_LENGTH } from "./frame.js";
import { asBytesField, headroomOf, lendHeadroom, REPLY_HEADROOM } from "./headroom.js";
import { decodeResponse, encodeResponse } from "./messages.js";

/** `length` bytes of 0x61 with `room` free bytes in front, lent. */
function lent(length: number, room = REPLY_HEADROOM): Buffer {
  const whole = Buffer.allocUnsafeSlow(room + length);
  return lendHeadroom(whole.subarray(room).fill(0x61), room);
}

describe("payloads with headroom", () => {
  it("become a bytes field where they lie, the header written in front and the rest of the room kept", () => {
    const data = lent(300);
    const field = asBytesField(data, 1);
    assert.ok(field);
    assert.equal(field.buffer, data.buffer, "no copy");
    assert.deepEqual([...field.subarray(0, 3)], [0x0a, 0xac, 0x02]);
    assert.deepEqual(field.subarray(3), data);
    assert.equal(headroomOf(field), REPLY_HEADROOM - 3);
  });

  it("are copied as any other when the room is short, never lent, or not theirs", () => {
    assert.equal(asBytesField(lent(300, 2), 1), undefined);
    const pooled = Buffer.from("abc");
    assert.equal(headroomOf(pooled), 0);
    assert.equal(asBytesField(pooled, 1), undefined);
    assert.throws(() => lendHeadroom(pooled.subarray(0), pooled.byteOffset + 1), RangeError);
  });

  it("make the same Response as a copy does, with the frame header's room in front, without copying", () => {
    const data = lent(70_000);
    const message = asBytesField(data, 1);
    assert.ok(message);
    const inPlace = encodeResponse({ payload: message }, HEADER_LENGTH);
    const copied = encodeResponse({ payload: Buffer.from(message) }, HEADER_LENGTH);
    assert.equal(inPlace.buffer, data.buffer);
    assert.notEqual(copied.buffer, data.buffer);
    assert.deepEqual(inPlace.subarray(HEADER_LENGTH), copied.subarray(HEADER_LENGTH));
    // Two field headers of 1 + 3 bytes (70 000 takes a 3-byte varint) and the frame header's 10.
    assert.equal(inPlace.byteOffset, REPLY_HEADROOM - 4 - 4 - HEADER_LENGTH);
    assert.deepEqual(decodeResponse(inPlace.subarray(HEADER_LENGTH)).payload, message);
  });

  it("leave an error Response alone: a status is never framed in place", () => {
    const payload = lent(10);
    const res = encodeResponse({ status: { code: 5, message: "no", details: [] }, payload }, HEADER_LENGTH);
    assert.notEqual(res.buffer, payload.buffer);
  });
});
