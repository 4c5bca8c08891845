import type { Family } from "../ip-address.js";
import {
  type Attribute,
  fixedPart,
  NetlinkDecodeError,
  parseAttributes,
  readU8,
  readU32,
  u8,
  u32,
} from "./netlink-message.js";

export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
export const RTM_GETROUTE = 26;

export const RT_TABLE_MAIN = 254;
export const RTPROT_KERNEL = 2;
export const RTPROT_BOOT = 3;
export const RTPROT_RA = 9;
export const RTN_UNICAST = 1;
export const RTNH_F_ONLINK = 0x4;

const RTMSG_BYTES = 12;
const RTA_DST = 1;
const RTA_SRC = 2;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_PRIORITY = 6;
const RTA_PREFSRC = 7;
const RTA_METRICS = 8;
const RTA_TABLE = 15;
const RTA_PREF = 20;
const RTAX_MTU = 2;
const NLA_F_NESTED = 0x8000;

/** A route, as RTM_NEWROUTE describes it (rtmsg + the attributes berth uses). */
export interface Route {
  family: Family;
  dstLength: number;
  srcLength: number;
  tos: number;
  /** RTA_TABLE when present (tables past 255), else rtm_table. */
  table: number;
  protocol: number;
  scope: number;
  type: number;
  flags: number;
  dst?: Uint8Array;
  src?: Uint8Array;
  gateway?: Uint8Array;
  prefsrc?: Uint8Array;
  oif?: number;
  priority?: number;
  /** RTAX_MTU of RTA_METRICS. */
  mtu?: number;
  /** RTA_PREF (IPv6 router preference). */
  pref?: number;
}

function address(value: Buffer | undefined, size: number, what: string): Uint8Array | undefined {
  if (value === undefined) return undefined;
  if (value.length !== size) throw new NetlinkDecodeError(`${what} has ${value.length} bytes, not ${size}`);
  return Uint8Array.from(value);
}

export function decodeRoute(payload: Buffer): Route {
  const fixed = fixedPart(payload, RTMSG_BYTES, "rtmsg");
  const family = fixed.readUInt8(0);
  if (family !== 2 && family !== 10) throw new NetlinkDecodeError(`a route of family ${family}`);
  const size = family === 2 ? 4 : 16;
  const attributes = parseAttributes(payload, RTMSG_BYTES);
  const metrics = attributes.get(RTA_METRICS);
  const mtu = metrics ? readU32(parseAttributes(metrics).get(RTAX_MTU), "RTAX_MTU") : undefined;
  const optional = {
    dst: address(attributes.get(RTA_DST), size, "RTA_DST"),
    src: address(attributes.get(RTA_SRC), size, "RTA_SRC"),
    gateway: address(attributes.get(RTA_GATEWAY), size, "RTA_GATEWAY"),
    prefsrc: address(attributes.get(RTA_PREFSRC), size, "RTA_PREFSRC"),
    oif: readU32(attributes.get(RTA_OIF), "RTA_OIF"),
    priority: readU32(attributes.get(RTA_PRIORITY), "RTA_PRIORITY"),
    mtu,
    pref: readU8(attributes.get(RTA_PREF), "RTA_PREF"),
  };
  const route: Route = {
    family,
    dstLength: fixed.readUInt8(1),
    srcLength: fixed.readUInt8(2),
    tos: fixed.readUInt8(3),
    table: readU32(attributes.get(RTA_TABLE), "RTA_TABLE") ?? fixed.readUInt8(4),
    protocol: fixed.readUInt8(5),
    scope: fixed.readUInt8(6),
    type: fixed.readUInt8(7),
    flags: fixed.readUInt32LE(8),
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) Object.assign(route, { [key]: value });
  }
  return route;
}

/** rtmsg for a request or a dump filter. */
export function rtmsg(route: Partial<Omit<Route, "family">> & { family: number }): Buffer {
  const out = Buffer.alloc(RTMSG_BYTES);
  out.writeUInt8(route.family, 0);
  out.writeUInt8(route.dstLength ?? 0, 1);
  out.writeUInt8(route.srcLength ?? 0, 2);
  out.writeUInt8(route.tos ?? 0, 3);
  out.writeUInt8(Math.min(route.table ?? 0, 255), 4);
  out.writeUInt8(route.protocol ?? 0, 5);
  out.writeUInt8(route.scope ?? 0, 6);
  out.writeUInt8(route.type ?? 0, 7);
  out.writeUInt32LE((route.flags ?? 0) >>> 0, 8);
  return out;
}

/** A route dump of the main table only, both families (AF_UNSPEC): the kernel filters (strict checking). */
export function mainTableDump(): { fixed: Buffer; attributes: Attribute[] } {
  return {
    fixed: rtmsg({ family: 0, table: RT_TABLE_MAIN }),
    attributes: [{ type: RTA_TABLE, value: u32(RT_TABLE_MAIN) }],
  };
}

/** The body of an RTM_NEWROUTE or RTM_DELROUTE for `route`. */
export function routeBody(route: Route): { fixed: Buffer; attributes: Attribute[] } {
  const attributes: Attribute[] = [{ type: RTA_TABLE, value: u32(route.table) }];
  if (route.dst && route.dstLength > 0) attributes.push({ type: RTA_DST, value: route.dst });
  if (route.src && route.srcLength > 0) attributes.push({ type: RTA_SRC, value: route.src });
  if (route.prefsrc) attributes.push({ type: RTA_PREFSRC, value: route.prefsrc });
  if (route.gateway) attributes.push({ type: RTA_GATEWAY, value: route.gateway });
  if (route.oif !== undefined) attributes.push({ type: RTA_OIF, value: u32(route.oif) });
  if (route.priority !== undefined) attributes.push({ type: RTA_PRIORITY, value: u32(route.priority) });
  if (route.pref !== undefined) attributes.push({ type: RTA_PREF, value: u8(route.pref) });
  if (route.mtu) {
    attributes.push({ type: RTA_METRICS | NLA_F_NESTED, value: [{ type: RTAX_MTU, value: u32(route.mtu) }] });
  }
  return { fixed: rtmsg(route), attributes };
}
