import { encodeFrame, HEADER_LENGTH, MessageType } from "../../src/protocol/ttrpc/frame.js";
import { encodeRequest } from "../../src/protocol/ttrpc/messages.js";
import type { Prng } from "./prng.js";

const SERVICES = ["grpc.Health", "grpc.AgentService", "grpc.Nope", ""];
const METHODS = [
  "Check",
  "Version",
  "CreateContainer",
  "WaitProcess",
  "ReadStdout",
  "CopyFile",
  "SetPolicy",
  "Nope",
  "",
];

function validRequest(rng: Prng, streamId: number): Buffer {
  const timeouts = [0n, 1n, -1n, 5_000_000n, 9_223_372_036_854_775_807n, -9_223_372_036_854_775_808n];
  const body = encodeRequest({
    service: rng.pick(SERVICES),
    method: rng.pick(METHODS),
    payload: rng.bytes(rng.int(64)),
    timeoutNano: rng.pick(timeouts),
    metadata: rng.int(4) === 0 ? [{ key: "k", value: String(rng.int(1000)) }] : [],
  });
  return encodeFrame(streamId, MessageType.REQUEST, 0, body);
}

/** One fuzzed frame: a valid request, or one mutated in its header, length, payload or framing. */
export function fuzzedFrame(rng: Prng, streamId: number): Buffer {
  const frame = validRequest(rng, streamId);
  switch (rng.int(8)) {
    case 0:
      return frame;
    case 1: {
      for (let i = 0; i < 1 + rng.int(4); i++) {
        const at = HEADER_LENGTH + rng.int(Math.max(1, frame.length - HEADER_LENGTH));
        if (at < frame.length) frame[at] = (frame[at] ?? 0) ^ (1 << rng.int(8));
      }
      return frame;
    }
    case 2:
      frame.writeUInt32BE(rng.int(0x1_0000_0000), 4);
      frame[8] = rng.int(256);
      frame[9] = rng.int(256);
      return frame;
    case 3:
      frame.writeUInt32BE(rng.pick([0, 1, rng.int(200), (4 << 20) + 1, rng.int(0x1_0000_0000)]), 0);
      return frame;
    case 4:
      return frame.subarray(0, rng.int(frame.length));
    case 5:
      return Buffer.from(rng.bytes(rng.int(64)));
    case 6:
      return encodeFrame(streamId, MessageType.REQUEST, 0, rng.bytes(rng.int(128)));
    default:
      return Buffer.concat([frame, Buffer.from(rng.bytes(rng.int(16)))]);
  }
}
