import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { HEADER_LENGTH } from "./frame.js";
import { GOLDEN_CHECK_REQUEST, GOLDEN_CHECK_RESPONSE, GOLDEN_TIMEOUT_NANO } from "./golden.test-util.js";
import {
  decodeRequest,
  decodeResponse,
  decodeStatus,
  encodeRequest,
  encodeResponse,
  MAX_METADATA_ENTRIES,
} from "./messages.js";

const goldenRequestBody = GOLDEN_CHECK_REQUEST.subarray(HEADER_LENGTH);
const goldenResponseBody = GOLDEN_CHECK_RESPONSE.subarray(HEADER_LENGTH);

describe("decodeRequest()", () => {
  it("reads the captured containerd/ttrpc request", () => {
    const req = decodeRequest(goldenRequestBody);
    assert.equal(req.service, "grpc.Health");
    assert.equal(req.method, "Check");
    assert.equal(req.payload.length, 0);
    assert.equal(req.timeoutNano, GOLDEN_TIMEOUT_NANO);
    assert.deepEqual(req.metadata, []);
  });

  it("reads metadata and payload, and skips unknown fields and mismatched wire types", () => {
    const w = new BinaryWriter();
    w.tag(1, WireType.LengthDelimited).string("svc");
    w.tag(9, WireType.Varint).uint32(7);
    w.tag(2, WireType.Varint).uint32(1);
    w.tag(2, WireType.LengthDelimited).string("m");
    w.tag(3, WireType.LengthDelimited).bytes(Uint8Array.of(1, 2));
    w.tag(5, WireType.LengthDelimited)
      .fork()
      .tag(1, WireType.LengthDelimited)
      .string("k")
      .tag(2, WireType.LengthDelimited)
      .string("v")
      .join();
    w.tag(5, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string("k").join();
    const req = decodeRequest(w.finish());
    assert.equal(req.service, "svc");
    assert.equal(req.method, "m");
    assert.deepEqual([...req.payload], [1, 2]);
    assert.deepEqual(req.metadata, [
      { key: "k", value: "v" },
      { key: "k", value: "" },
    ]);
  });

  it("throws on truncated input", () => {
    assert.throws(() => decodeRequest(goldenRequestBody.subarray(0, 5)));
    assert.throws(() => decodeRequest(Uint8Array.of(0x0a, 0x80)));
  });
  it("refuses more metadata entries than the limit before decoding them all (the review's metadata bomb)", () => {
    const entry = Uint8Array.of(0x2a, 0x02, 0x0a, 0x00); // metadata { key: "" }
    const envelope = (entries: number) => {
      const out = new Uint8Array(entries * entry.length);
      for (let i = 0; i < entries; i++) out.set(entry, i * entry.length);
      return out;
    };
    assert.equal(decodeRequest(envelope(MAX_METADATA_ENTRIES)).metadata.length, MAX_METADATA_ENTRIES);
    const bomb = envelope(1_000_000);
    const start = performance.now();
    assert.throws(() => decodeRequest(bomb), /more than 1024 metadata entries/);
    assert.ok(performance.now() - start < 50, "refused at the first entry past the limit");
  });
});

describe("encodeRequest()", () => {
  it("writes the captured request body byte for byte", () => {
    const body = encodeRequest({
      service: "grpc.Health",
      method: "Check",
      payload: new Uint8Array(0),
      timeoutNano: GOLDEN_TIMEOUT_NANO,
      metadata: [],
    });
    assert.deepEqual(Buffer.from(body), goldenRequestBody);
  });

  it("round-trips every field", () => {
    const req = {
      service: "grpc.AgentService",
      method: "WaitProcess",
      payload: Uint8Array.of(10, 2, 104, 105),
      timeoutNano: 123_456_789_000n,
      metadata: [
        { key: "a", value: "1" },
        { key: "a", value: "2" },
      ],
    };
    const back = decodeRequest(encodeRequest(req));
    assert.deepEqual({ ...back, payload: [...back.payload] }, { ...req, payload: [...req.payload] });
  });
});

describe("encodeResponse() / decodeResponse()", () => {
  it("writes a success like containerd/ttrpc: payload only, no status", () => {
    assert.deepEqual(Buffer.from(encodeResponse({ payload: Uint8Array.of(8, 1) })), goldenResponseBody);
  });

  it("round-trips an error status with details", () => {
    const status = {
      code: 5,
      message: 'container "x" not found',
      details: [{ typeUrl: "type.googleapis.com/x", value: Buffer.of(1) }],
    };
    const res = decodeResponse(encodeResponse({ status, payload: new Uint8Array(0) }));
    assert.deepEqual(res.status, status);
    assert.equal(res.payload.length, 0);
  });

  it("reads a status whose code is present but zero as OK", () => {
    const status = decodeStatus(Uint8Array.of(0x08, 0x00));
    assert.equal(status.code, 0);
  });
});
