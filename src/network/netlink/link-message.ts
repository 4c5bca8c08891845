import {
  type Attribute,
  cString,
  fixedPart,
  NetlinkDecodeError,
  parseAttributes,
  readString,
  readU8,
  readU32,
  u32,
} from "./netlink-message.js";

export const RTM_NEWLINK = 16;
export const RTM_GETLINK = 18;
export const RTM_SETLINK = 19;
/** RTMGRP_LINK: the multicast group of link changes. */
export const RTMGRP_LINK = 0x1;

export const IFF_UP = 0x1;
export const IFF_NOARP = 0x80;

const IFINFOMSG_BYTES = 16;
const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_OPERSTATE = 16;
const IFLA_LINKINFO = 18;
const IFLA_INFO_KIND = 1;
const IFLA_EXT_MASK = 29;
const IFLA_PERM_ADDRESS = 54;
/** In IFLA_EXT_MASK: leave out the link's counters, most of each RTM_NEWLINK's bytes. */
const RTEXT_FILTER_SKIP_STATS = 1 << 3;

/** The attributes of a link request or dump that asks for links without their counters. */
export const withoutStats: readonly Attribute[] = [
  { type: IFLA_EXT_MASK, value: u32(RTEXT_FILTER_SKIP_STATS) },
];

/** The RFC 2863 operational states (IF_OPER_*), as `ip` names them. */
const OPERSTATES = ["UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"];

/** A link as RTM_NEWLINK describes it (ifinfomsg + the attributes berth uses). */
export interface Link {
  index: number;
  /** ARPHRD_* (1: ethernet, 772: loopback). */
  linkType: number;
  flags: number;
  name: string;
  mtu: number;
  /** The link-layer address; absent for links without one. */
  address?: Uint8Array;
  permanentAddress?: Uint8Array;
  operState: string;
  /** The driver kind of a virtual link ("veth", "bridge"); absent for hardware. */
  kind?: string;
}

export function decodeLink(payload: Buffer): Link {
  const fixed = fixedPart(payload, IFINFOMSG_BYTES, "ifinfomsg");
  const attributes = parseAttributes(payload, IFINFOMSG_BYTES);
  const name = readString(attributes.get(IFLA_IFNAME));
  if (name === undefined) throw new NetlinkDecodeError("a link without IFLA_IFNAME");
  const linkInfo = attributes.get(IFLA_LINKINFO);
  const kind = linkInfo ? readString(parseAttributes(linkInfo).get(IFLA_INFO_KIND)) : undefined;
  const address = attributes.get(IFLA_ADDRESS);
  const permanentAddress = attributes.get(IFLA_PERM_ADDRESS);
  const operState = readU8(attributes.get(IFLA_OPERSTATE), "IFLA_OPERSTATE") ?? 0;
  return {
    index: fixed.readInt32LE(4),
    linkType: fixed.readUInt16LE(2),
    flags: fixed.readUInt32LE(8),
    name,
    mtu: readU32(attributes.get(IFLA_MTU), "IFLA_MTU") ?? 0,
    ...(address?.length ? { address: Uint8Array.from(address) } : {}),
    ...(permanentAddress?.length ? { permanentAddress: Uint8Array.from(permanentAddress) } : {}),
    operState: OPERSTATES[operState] ?? `${operState}`,
    ...(kind ? { kind } : {}),
  };
}

/** ifinfomsg: family, type, index, flags and the mask of flags to change. */
export function ifinfomsg(index: number, flags = 0, change = 0): Buffer {
  const out = Buffer.alloc(IFINFOMSG_BYTES);
  out.writeInt32LE(index, 4);
  out.writeUInt32LE(flags >>> 0, 8);
  out.writeUInt32LE(change >>> 0, 12);
  return out;
}

/** The attributes of a get of the link named `name` (without its counters). */
export const byName = (name: string): Attribute[] => [
  { type: IFLA_IFNAME, value: cString(name) },
  ...withoutStats,
];

export interface LinkChange {
  index: number;
  name?: string;
  mtu?: number;
  address?: Uint8Array;
  /** Flags to set, among those in `flagMask` (others are left as they are). */
  flags?: number;
  flagMask?: number;
}

/** The fixed part and attributes of an RTM_SETLINK that makes `change`. */
export function linkChangeBody(change: LinkChange): { fixed: Buffer; attributes: Attribute[] } {
  const attributes: Attribute[] = [];
  if (change.name !== undefined) attributes.push({ type: IFLA_IFNAME, value: cString(change.name) });
  if (change.mtu !== undefined) attributes.push({ type: IFLA_MTU, value: u32(change.mtu) });
  if (change.address !== undefined) attributes.push({ type: IFLA_ADDRESS, value: change.address });
  return { fixed: ifinfomsg(change.index, change.flags ?? 0, change.flagMask ?? 0), attributes };
}
