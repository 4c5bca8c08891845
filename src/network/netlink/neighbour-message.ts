import type { Family } from "../ip-address.js";
import { type Attribute, fixedPart, NetlinkDecodeError, parseAttributes } from "./netlink-message.js";

export const RTM_NEWNEIGH = 28;
export const RTM_DELNEIGH = 29;
export const RTM_GETNEIGH = 30;

export const NUD_REACHABLE = 0x02;
export const NUD_NOARP = 0x40;
export const NUD_PERMANENT = 0x80;

const NDMSG_BYTES = 12;
const NDA_DST = 1;
const NDA_LLADDR = 2;

/** A neighbour (ARP or NDP) entry, as RTM_NEWNEIGH describes it. */
export interface Neighbour {
  family: Family;
  index: number;
  /** NUD_* bits. */
  state: number;
  /** NTF_* bits. */
  flags: number;
  type: number;
  dst: Uint8Array;
  lladdr?: Uint8Array;
}

export function decodeNeighbour(payload: Buffer): Neighbour {
  const fixed = fixedPart(payload, NDMSG_BYTES, "ndmsg");
  const family = fixed.readUInt8(0);
  if (family !== 2 && family !== 10) throw new NetlinkDecodeError(`a neighbour of family ${family}`);
  const attributes = parseAttributes(payload, NDMSG_BYTES);
  const dst = attributes.get(NDA_DST);
  if (!dst || dst.length !== (family === 2 ? 4 : 16)) {
    throw new NetlinkDecodeError(`a neighbour whose NDA_DST has ${dst?.length ?? 0} bytes`);
  }
  const lladdr = attributes.get(NDA_LLADDR);
  return {
    family,
    index: fixed.readInt32LE(4),
    state: fixed.readUInt16LE(8),
    flags: fixed.readUInt8(10),
    type: fixed.readUInt8(11),
    dst: Uint8Array.from(dst),
    ...(lladdr?.length ? { lladdr: Uint8Array.from(lladdr) } : {}),
  };
}

export function ndmsg(family: number, index: number, state = 0, flags = 0, type = 0): Buffer {
  const out = Buffer.alloc(NDMSG_BYTES);
  out.writeUInt8(family, 0);
  out.writeInt32LE(index, 4);
  out.writeUInt16LE(state, 8);
  out.writeUInt8(flags, 10);
  out.writeUInt8(type, 11);
  return out;
}

/** The body of an RTM_NEWNEIGH or RTM_DELNEIGH for `neighbour`. */
export function neighbourBody(neighbour: Neighbour): { fixed: Buffer; attributes: Attribute[] } {
  const attributes: Attribute[] = [{ type: NDA_DST, value: neighbour.dst }];
  if (neighbour.lladdr) attributes.push({ type: NDA_LLADDR, value: neighbour.lladdr });
  return {
    fixed: ndmsg(neighbour.family, neighbour.index, neighbour.state, neighbour.flags, neighbour.type),
    attributes,
  };
}
