import type { Family } from "../ip-address.js";
import {
  type Attribute,
  cString,
  fixedPart,
  NetlinkDecodeError,
  parseAttributes,
  readString,
  readU32,
  u32,
} from "./netlink-message.js";

export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;

export const IFA_F_NODAD = 0x02;
export const IFA_F_TENTATIVE = 0x40;
export const IFA_F_PERMANENT = 0x80;

const IFADDRMSG_BYTES = 8;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_LABEL = 3;
const IFA_FLAGS = 8;

/** RT_SCOPE_* values (rtnetlink.h). */
export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_LINK = 253;
export const RT_SCOPE_HOST = 254;

/** An address of a link, as RTM_NEWADDR describes it. */
export interface LinkAddress {
  family: Family;
  prefixLength: number;
  /** IFA_F_*: the 8 bits of ifaddrmsg widened by IFA_FLAGS. */
  flags: number;
  scope: number;
  index: number;
  /** IFA_LOCAL where the kernel gives it (IPv4), else IFA_ADDRESS: the address itself. */
  address: Uint8Array;
  /** IFA_ADDRESS when it differs from IFA_LOCAL: the peer of a point-to-point address. */
  peer?: Uint8Array;
  label?: string;
}

export function decodeAddress(payload: Buffer): LinkAddress {
  const fixed = fixedPart(payload, IFADDRMSG_BYTES, "ifaddrmsg");
  const attributes = parseAttributes(payload, IFADDRMSG_BYTES);
  const family = fixed.readUInt8(0);
  if (family !== 2 && family !== 10) throw new NetlinkDecodeError(`an address of family ${family}`);
  const size = family === 2 ? 4 : 16;
  const local = attributes.get(IFA_LOCAL);
  const address = attributes.get(IFA_ADDRESS);
  const own = local ?? address;
  if (!own || own.length !== size) throw new NetlinkDecodeError(`an address of ${own?.length ?? 0} bytes`);
  const label = readString(attributes.get(IFA_LABEL));
  const peer =
    local && address && Buffer.compare(local, address) !== 0 ? Uint8Array.from(address) : undefined;
  return {
    family,
    prefixLength: fixed.readUInt8(1),
    flags: readU32(attributes.get(IFA_FLAGS), "IFA_FLAGS") ?? fixed.readUInt8(2),
    scope: fixed.readUInt8(3),
    index: fixed.readUInt32LE(4),
    address: Uint8Array.from(own),
    ...(peer ? { peer } : {}),
    ...(label ? { label } : {}),
  };
}

export function ifaddrmsg(
  family: number,
  prefixLength: number,
  flags: number,
  scope: number,
  index: number,
): Buffer {
  const out = Buffer.alloc(IFADDRMSG_BYTES);
  out.writeUInt8(family, 0);
  out.writeUInt8(prefixLength, 1);
  out.writeUInt8(flags & 0xff, 2);
  out.writeUInt8(scope, 3);
  out.writeUInt32LE(index, 4);
  return out;
}

/**
 * The body of an RTM_NEWADDR or RTM_DELADDR for `address`, as `ip` sends it: IFA_LOCAL (IPv4, or any
 * address with a peer) and IFA_ADDRESS (the peer, else the address itself).
 */
export function addressBody(
  address: LinkAddress,
  options: { label?: boolean } = {},
): { fixed: Buffer; attributes: Attribute[] } {
  const local = address.family === 2 || address.peer !== undefined;
  // An IPv4 label (an alias such as "eth0:1") is sent to add an address back, never to find one: a rename
  // changes the labels the kernel holds.
  const label = options.label && address.family === 2 && address.label !== undefined;
  return {
    fixed: ifaddrmsg(address.family, address.prefixLength, address.flags, address.scope, address.index),
    attributes: [
      ...(local ? [{ type: IFA_LOCAL, value: address.address }] : []),
      { type: IFA_ADDRESS, value: address.peer ?? address.address },
      ...(label ? [{ type: IFA_LABEL, value: cString(address.label ?? "") }] : []),
      { type: IFA_FLAGS, value: u32(address.flags) },
    ],
  };
}
