import { AF_INET, formatIp, formatMac } from "./ip-address.js";
import type { LinkAddress } from "./netlink/address-message.js";
import type { Link } from "./netlink/link-message.js";
import { type Route, RT_TABLE_MAIN } from "./netlink/route-message.js";
import { type InterfaceText, type IpAddressText, type RouteText, WIRE_V4, WIRE_V6 } from "./network-types.js";

const wireFamily = (family: number) => (family === AF_INET ? WIRE_V4 : WIRE_V6);

export const addressText = (a: LinkAddress): IpAddressText => ({
  family: wireFamily(a.family),
  address: formatIp(a.address),
  mask: String(a.prefixLength),
});

/** A link and its addresses in the wire's shape: family right, MAC as `ip` shows it (lowercase). */
export function interfaceText(link: Link, addresses: readonly LinkAddress[]): InterfaceText {
  return {
    device: "",
    name: link.name,
    addresses: addresses.filter((a) => a.index === link.index).map(addressText),
    mtu: link.mtu,
    hwAddr: link.address ? formatMac(link.address) : "",
    devicePath: "",
    type: link.kind ?? "",
    rawFlags: link.flags,
  };
}

/**
 * The main table's routes in the wire's shape: the real destination of every route ("" for a default),
 * the preferred source as a plain address, a source prefix as "addr/len", the family and flags filled.
 */
export function routeTexts(routes: readonly Route[], links: readonly Link[]): RouteText[] {
  const names = new Map(links.map((l) => [l.index, l.name]));
  return routes
    .filter((r) => r.table === RT_TABLE_MAIN)
    .map((r) => {
      let source = "";
      if (r.prefsrc) source = formatIp(r.prefsrc);
      else if (r.src && r.srcLength > 0) source = `${formatIp(r.src)}/${r.srcLength}`;
      return {
        dest: r.dstLength > 0 && r.dst ? `${formatIp(r.dst)}/${r.dstLength}` : "",
        gateway: r.gateway ? formatIp(r.gateway) : "",
        device: r.oif === undefined ? "" : (names.get(r.oif) ?? ""),
        source,
        scope: r.scope,
        family: wireFamily(r.family),
        flags: r.flags,
        mtu: r.mtu ?? 0,
      };
    });
}
