import { formatIp, formatMac } from "../ip-address.js";
import type { LinkAddress } from "./address-message.js";
import type { IpObject } from "./fixtures.test-util.js";
import type { Link } from "./link-message.js";
import type { Neighbour } from "./neighbour-message.js";
import type { Route } from "./route-message.js";

// Decoded objects as iproute2 6.1's `ip -json` prints them (ip/ipaddress.c, ip/iproute.c, ip/ipneigh.c), so
// that a test can compare them whole with what `ip` printed for the same kernel objects.

/** Names of bits in ip's order; bits left over print as hex, as ip does. */
function bitNames(flags: number, names: readonly [number, string][]): string[] {
  const out: string[] = [];
  let left = flags;
  for (const [bit, name] of names) {
    if (left & bit) out.push(name);
    left &= ~bit;
  }
  return left ? [...out, left.toString(16)] : out;
}

const IFF_UP = 0x1;
const IFF_RUNNING = 0x40;
const LINK_FLAGS: [number, string][] = [
  [0x8, "LOOPBACK"],
  [0x2, "BROADCAST"],
  [0x10, "POINTOPOINT"],
  [0x1000, "MULTICAST"],
  [0x80, "NOARP"],
  [0x200, "ALLMULTI"],
  [0x100, "PROMISC"],
  [0x400, "MASTER"],
  [0x800, "SLAVE"],
  [0x4, "DEBUG"],
  [0x8000, "DYNAMIC"],
  [0x4000, "AUTOMEDIA"],
  [0x2000, "PORTSEL"],
  [0x20, "NOTRAILERS"],
  [0x1, "UP"],
  [0x10000, "LOWER_UP"],
  [0x20000, "DORMANT"],
  [0x40000, "ECHO"],
];
const LINK_TYPES = new Map([
  [1, "ether"],
  [772, "loopback"],
]);

/** print_link_flags: NO-CARRIER for a link up but not running, RUNNING itself never shown. */
export function linkFlagNames(flags: number): string[] {
  const carrier = flags & IFF_UP && !(flags & IFF_RUNNING) ? ["NO-CARRIER"] : [];
  return [...carrier, ...bitNames(flags & ~IFF_RUNNING, LINK_FLAGS)];
}

/** A link as `ip -j -d link` shows it, in the fields the codec decodes. */
export function linkAsIp(link: Link): IpObject {
  const { address, permanentAddress } = link;
  const permanent =
    permanentAddress && (!address || Buffer.compare(address, permanentAddress) !== 0)
      ? { permaddr: formatMac(permanentAddress) }
      : {};
  return {
    ifindex: link.index,
    ifname: link.name,
    flags: linkFlagNames(link.flags),
    mtu: link.mtu,
    operstate: link.operState,
    link_type: LINK_TYPES.get(link.linkType) ?? `[${link.linkType}]`,
    ...(address ? { address: formatMac(address) } : {}),
    ...permanent,
    ...(link.kind ? { info_kind: link.kind } : {}),
  };
}

/** The same fields of one entry of `ip -j -d link`. */
export function ipLinkFields(link: IpObject): IpObject {
  const keys = ["ifindex", "ifname", "flags", "mtu", "operstate", "link_type", "address", "permaddr"];
  const picked = Object.fromEntries(keys.filter((k) => k in link).map((k) => [k, link[k]]));
  const kind = (link.linkinfo as { info_kind?: string } | undefined)?.info_kind;
  return kind ? { ...picked, info_kind: kind } : picked;
}

const SCOPES = new Map([
  [0, "global"],
  [200, "site"],
  [253, "link"],
  [254, "host"],
  [255, "nowhere"],
]);
const scopeName = (scope: number) => SCOPES.get(scope) ?? `${scope}`;

const IFA_F_SECONDARY = 0x01;
const IFA_F_PERMANENT = 0x80;
const ADDRESS_FLAGS: [number, string][] = [
  [0x02, "nodad"],
  [0x04, "optimistic"],
  [0x08, "dadfailed"],
  [0x10, "home"],
  [0x20, "deprecated"],
  [0x40, "tentative"],
  [0x100, "mngtmpaddr"],
  [0x200, "noprefixroute"],
  [0x400, "autojoin"],
  [0x800, "stable-privacy"],
];

/** print_ifa_flags: each flag a `true` key; "dynamic" for an address without IFA_F_PERMANENT. */
function addressFlags(address: LinkAddress): IpObject {
  const out: IpObject = {};
  if (address.flags & IFA_F_SECONDARY) out[address.family === 10 ? "temporary" : "secondary"] = true;
  if (!(address.flags & IFA_F_PERMANENT)) out.dynamic = true;
  for (const [bit, name] of ADDRESS_FLAGS) if (address.flags & bit) out[name] = true;
  return out;
}

/** An address as one entry of `ip -j addr`'s addr_info shows it (lifetimes and broadcast are not decoded). */
export function addressAsIp(address: LinkAddress): IpObject {
  return {
    family: address.family === 2 ? "inet" : "inet6",
    local: formatIp(address.address),
    ...(address.peer ? { address: formatIp(address.peer) } : {}),
    prefixlen: address.prefixLength,
    ...addressFlags(address),
    scope: scopeName(address.scope),
    ...(address.label ? { label: address.label } : {}),
  };
}

/** One addr_info entry without the fields the codec does not decode. */
export function ipAddressFields(info: IpObject): IpObject {
  const { valid_life_time: _valid, preferred_life_time: _preferred, broadcast: _broadcast, ...rest } = info;
  return rest;
}

const PROTOCOLS = new Map([
  [1, "redirect"],
  [2, "kernel"],
  [4, "static"],
  [9, "ra"],
  [16, "dhcp"],
]);
const ROUTE_TYPES = new Map([
  [2, "local"],
  [3, "broadcast"],
  [4, "anycast"],
  [5, "multicast"],
  [6, "blackhole"],
  [7, "unreachable"],
  [8, "prohibit"],
  [9, "throw"],
]);
const ROUTE_FLAGS: [number, string][] = [
  [0x1, "dead"],
  [0x4, "onlink"],
  [0x2, "pervasive"],
  [0x8, "offload"],
  [0x40, "trap"],
  [0x100, "notify"],
  [0x10, "linkdown"],
  [0x20, "unresolved"],
];
const PREFERENCES = new Map([
  [0, "medium"],
  [1, "high"],
  [3, "low"],
]);

/** "default", an address (a host route) or address/length, as print_rt_dst and the "from" of print_route. */
function prefixText(bytes: Uint8Array | undefined, length: number, hostLength: number): string | undefined {
  if (bytes) return length === hostLength ? formatIp(bytes) : `${formatIp(bytes)}/${length}`;
  return length ? `0/${length}` : undefined;
}

/** A main-table route as `ip -j [-6] route show table main` shows it; `names` resolves the oif. */
export function routeAsIp(route: Route, names: ReadonlyMap<number, string>): IpObject {
  const host = route.family === 2 ? 32 : 128;
  const from = prefixText(route.src, route.srcLength, host);
  const type = ROUTE_TYPES.get(route.type);
  return {
    ...(type ? { type } : {}),
    dst: prefixText(route.dst, route.dstLength, host) ?? "default",
    ...(from ? { from } : {}),
    ...(route.gateway ? { gateway: formatIp(route.gateway) } : {}),
    ...(route.oif !== undefined ? { dev: names.get(route.oif) ?? `if${route.oif}` } : {}),
    ...(route.protocol !== 3 ? { protocol: PROTOCOLS.get(route.protocol) ?? `${route.protocol}` } : {}),
    ...(route.scope !== 0 ? { scope: scopeName(route.scope) } : {}),
    ...(route.prefsrc ? { prefsrc: formatIp(route.prefsrc) } : {}),
    ...(route.priority !== undefined ? { metric: route.priority } : {}),
    flags: bitNames(route.flags, ROUTE_FLAGS),
    ...(route.mtu !== undefined ? { metrics: [{ mtu: route.mtu }] } : {}),
    ...(route.pref !== undefined ? { pref: PREFERENCES.get(route.pref) ?? `${route.pref}` } : {}),
  };
}

const NUD_NOARP = 0x40;
const NTF_PROXY = 0x08;
const NTF_EXT_LEARNED = 0x10;
const NTF_ROUTER = 0x80;
const NEIGHBOUR_STATES: [number, string][] = [
  [0x01, "INCOMPLETE"],
  [0x02, "REACHABLE"],
  [0x04, "STALE"],
  [0x08, "DELAY"],
  [0x10, "PROBE"],
  [0x20, "FAILED"],
  [0x40, "NOARP"],
  [0x80, "PERMANENT"],
];

/** Whether plain `ip neigh` lists the entry: it hides NOARP-only (and stateless) ones unless proxy or learned. */
export const ipNeighShows = (neighbour: Neighbour) =>
  (neighbour.state & 0xff & ~NUD_NOARP) !== 0 || (neighbour.flags & (NTF_PROXY | NTF_EXT_LEARNED)) !== 0;

/** A neighbour as `ip -j neigh` shows it; `names` resolves its link. */
export function neighbourAsIp(neighbour: Neighbour, names: ReadonlyMap<number, string>): IpObject {
  return {
    dst: formatIp(neighbour.dst),
    dev: names.get(neighbour.index) ?? `if${neighbour.index}`,
    ...(neighbour.lladdr ? { lladdr: formatMac(neighbour.lladdr) } : {}),
    ...(neighbour.flags & NTF_ROUTER ? { router: null } : {}),
    ...(neighbour.flags & NTF_PROXY ? { proxy: null } : {}),
    state: neighbour.state ? bitNames(neighbour.state, NEIGHBOUR_STATES) : ["NONE"],
  };
}
