import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { encodeInPlace, lendFront } from "./bytes-reply.js";
import { ReadStreamResponseSchema, WriteStreamRequestSchema } from "./gen/agent_pb.js";

/** Output as OutputReader returns it: a view with its ArrayBuffer's front free. */
const output = (text: string) =>
  Buffer.allocUnsafeSlow(32 + text.length)
    .subarray(32)
    .fill(text);

describe("encodeInPlace()", () => {
  it("encodes a ReadStreamResponse as toBinary does, in the buffer its data was read into", () => {
    const data = lendFront(output("hello"));
    const message = create(ReadStreamResponseSchema, { data });
    const bytes = encodeInPlace(ReadStreamResponseSchema, message);
    assert.ok(bytes);
    assert.equal(bytes.buffer, data.buffer);
    assert.deepEqual(Buffer.from(bytes), Buffer.from(toBinary(ReadStreamResponseSchema, message)));
  });

  it("leaves to toBinary empty data, data without room, and messages of more than one field", () => {
    const empty = create(ReadStreamResponseSchema, { data: new Uint8Array(0) });
    assert.equal(encodeInPlace(ReadStreamResponseSchema, empty), undefined);
    const plain = create(ReadStreamResponseSchema, { data: output("x") });
    assert.equal(encodeInPlace(ReadStreamResponseSchema, plain), undefined);
    const write = create(WriteStreamRequestSchema, { containerId: "c", data: lendFront(output("x")) });
    assert.equal(encodeInPlace(WriteStreamRequestSchema, write), undefined);
  });
});
