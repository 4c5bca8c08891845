import type { Prng } from "./prng.js";

/** Each message type's fixed struct (ifinfomsg, ifaddrmsg, rtmsg, ndmsg): where its attributes start. */
function fixedBytes(type: number): number | undefined {
  if (type >= 16 && type <= 19) return 16;
  if (type >= 20 && type <= 22) return 8;
  if (type >= 24 && type <= 26) return 12;
  if (type >= 28 && type <= 30) return 12;
  return undefined;
}

/** Whether `bytes[start, end)` is a run of well-formed attributes, exactly. */
function isAttributeRun(bytes: Buffer, start: number, end: number): boolean {
  let at = start;
  while (end - at >= 4) {
    const length = bytes.readUInt16LE(at);
    if (length < 4 || length > end - at) return false;
    at += (length + 3) & ~3;
  }
  return at >= end && end - start >= 4;
}

function attributeOffsets(bytes: Buffer, start: number, end: number, out: number[]): void {
  let at = start;
  while (end - at >= 4) {
    const length = bytes.readUInt16LE(at);
    if (length < 4 || length > end - at) return;
    out.push(at);
    if (isAttributeRun(bytes, at + 4, at + length)) attributeOffsets(bytes, at + 4, at + length, out);
    at += (length + 3) & ~3;
  }
}

/**
 * Where the length fields of a well-formed datagram are: each message header's (u32) and each attribute's
 * (u16), nested ones included where a value reads as attributes.
 */
export function lengthFields(datagram: Buffer): { messages: number[]; attributes: number[] } {
  const messages: number[] = [];
  const attributes: number[] = [];
  let offset = 0;
  while (datagram.length - offset >= 16) {
    const length = datagram.readUInt32LE(offset);
    if (length < 16 || length > datagram.length - offset) break;
    messages.push(offset);
    const fixed = fixedBytes(datagram.readUInt16LE(offset + 4));
    if (fixed !== undefined) attributeOffsets(datagram, offset + 16 + fixed, offset + length, attributes);
    offset += (length + 3) & ~3;
  }
  return { messages, attributes };
}

const NLMSG_ERROR = 2;

function mutateOnce(rng: Prng, seed: Buffer, seeds: readonly Buffer[]): Buffer {
  const datagram = Buffer.from(seed);
  const { messages, attributes } = lengthFields(datagram);
  switch (rng.int(10)) {
    case 0: {
      for (let i = 1 + rng.int(8); i > 0 && datagram.length > 0; i--) {
        const at = rng.int(datagram.length);
        datagram[at] = (datagram[at] ?? 0) ^ (1 << rng.int(8));
      }
      return datagram;
    }
    case 1:
      return datagram.subarray(0, rng.int(datagram.length + 1));
    case 2: {
      if (messages.length === 0) return datagram;
      const at = rng.pick(messages);
      const length = datagram.readUInt32LE(at);
      const lengths = [
        0,
        1,
        15,
        16,
        17,
        length - 1,
        length + 1,
        length + 4,
        0x7fff_ffff,
        0x8000_0000,
        0xffff_ffff,
      ];
      datagram.writeUInt32LE(rng.pick([...lengths, rng.int(0x1_0000_0000), 1 + 2 * rng.int(1000)]) >>> 0, at);
      return datagram;
    }
    case 3: {
      if (attributes.length === 0) return datagram;
      const at = rng.pick(attributes);
      const length = datagram.readUInt16LE(at);
      const lengths = [0, 1, 2, 3, 4, 5, length - 1, length + 1, length + 3, length + 4, 0x8000, 0xffff];
      datagram.writeUInt16LE(rng.pick([...lengths, rng.int(0x10000)]) & 0xffff, at);
      return datagram;
    }
    case 4: {
      const at = rng.pick(attributes.length ? attributes : [0]);
      if (at + 4 <= datagram.length) datagram.writeUInt16LE(rng.int(0x10000), at + 2);
      return datagram;
    }
    case 5: {
      const random = Buffer.from(rng.bytes(rng.int(256)));
      if (random.length >= 16 && rng.int(2)) random.writeUInt32LE(random.length, 0);
      return random;
    }
    case 6: {
      if (datagram.length === 0) return datagram;
      const at = rng.int(datagram.length);
      datagram.set(rng.bytes(Math.min(1 + rng.int(16), datagram.length - at)), at);
      return datagram;
    }
    case 7: {
      const other = rng.pick(seeds);
      const cut = rng.int(datagram.length + 1);
      return Buffer.concat([
        datagram.subarray(0, cut),
        other.subarray(rng.int(other.length + 1)),
        rng.bytes(rng.int(8)),
      ]);
    }
    case 8: {
      // An NLMSG_ERROR: its flags (capped, ack TLVs) and the echoed request's length, the ones statusOf trusts.
      if (messages.length === 0) return datagram;
      const at = rng.pick(messages);
      datagram.writeUInt16LE(NLMSG_ERROR, at + 4);
      datagram.writeUInt16LE(rng.pick([0, 0x100, 0x200, 0x300, rng.int(0x10000)]), at + 6);
      if (at + 24 <= datagram.length) {
        const echoed = [
          0,
          15,
          16,
          17,
          0x7fff_fffd,
          0x8000_0000,
          0xffff_fffd,
          0xffff_ffff,
          rng.int(0x1_0000_0000),
        ];
        datagram.writeUInt32LE(rng.pick(echoed) >>> 0, at + 20);
      }
      return datagram;
    }
    default:
      return Buffer.concat([datagram, datagram.subarray(rng.int(datagram.length + 1))]);
  }
}

/** One fuzzed datagram: a recorded one as it is, or mutated once or a few times over. */
export function fuzzedDatagram(rng: Prng, seeds: readonly Buffer[]): Buffer {
  let datagram: Buffer = Buffer.from(rng.pick(seeds));
  const rounds = rng.int(8) === 0 ? 0 : 1 + (rng.int(3) === 0 ? rng.int(4) : 0);
  for (let i = 0; i < rounds; i++) datagram = mutateOnce(rng, datagram, seeds);
  return datagram;
}
