import { AgentError, Code } from "../errors.js";
import {
  AF_INET,
  AF_INET6,
  type Family,
  type IpAddress,
  type IpPrefix,
  parseIp,
  parsePrefix,
} from "./ip-address.js";
import { type Route, RT_TABLE_MAIN, RTN_UNICAST, RTPROT_BOOT } from "./netlink/route-message.js";
import { type RouteText, WIRE_V4, WIRE_V6 } from "./network-types.js";

/** More routes than any pod has: a bound on the work one request asks for. */
const MAX_ROUTES = 4096;

const invalid = (message: string) => new AgentError(Code.INVALID_ARGUMENT, message);

/** The text the Go host looks for (as for UpdateInterface), for a route's or neighbour's device. */
export const linkNameNotFound = (name: string) => `Link not found (Name: ${name})`;

/** How a route is shown in errors: as `ip route` would print it. */
export function describeRoute(text: RouteText): string {
  const parts = [text.dest === "" ? "default" : text.dest];
  if (text.gateway) parts.push(`via ${text.gateway}`);
  if (text.device) parts.push(`dev ${text.device}`);
  if (text.source) parts.push(`src ${text.source}`);
  return parts.join(" ");
}

function familyOfRoute(text: RouteText, found: (IpAddress | undefined)[]): Family {
  if (text.family !== WIRE_V4 && text.family !== WIRE_V6) {
    throw invalid(`route ${describeRoute(text)} has family ${text.family}, neither v4 (0) nor v6 (1)`);
  }
  const families = new Set(found.filter((a) => a !== undefined).map((a) => a.family));
  if (families.size > 1) throw invalid(`route ${describeRoute(text)} mixes IPv4 and IPv6 addresses`);
  const [seen] = families;
  // v4 is also the wire's default, so only an explicit v6 is held against IPv4 addresses.
  if (text.family === WIRE_V6 && seen === AF_INET) {
    throw invalid(`route ${describeRoute(text)} has IPv4 addresses but its family is v6`);
  }
  return seen ?? (text.family === WIRE_V6 ? AF_INET6 : AF_INET);
}

/**
 * One route of an UpdateRoutes request as the kernel route it asks for (main table, protocol boot), the
 * device resolved by `linkIndex`. `source` is the preferred source when it is a plain address (what the Go
 * host sends, vishvananda's Route.Src), a source prefix when it is "addr/len" (IPv6 only).
 */
export function planRoute(text: RouteText, linkIndex: (name: string) => number | undefined): Route {
  const shown = describeRoute(text);
  if (text.device === "") throw invalid(`route ${shown} names no device`);
  const index = linkIndex(text.device);
  if (index === undefined) throw new AgentError(Code.NOT_FOUND, linkNameNotFound(text.device));
  let dest: IpPrefix | undefined;
  if (text.dest !== "" && text.dest !== "default") {
    dest = parsePrefix(text.dest);
    if (!dest)
      throw invalid(`route ${shown}: destination ${JSON.stringify(text.dest)} is not an address or prefix`);
  }
  const gateway = text.gateway === "" ? undefined : parseIp(text.gateway);
  if (text.gateway !== "" && !gateway) {
    throw invalid(`route ${shown}: gateway ${JSON.stringify(text.gateway)} is not an IP address`);
  }
  const sourceIsPrefix = text.source.includes("/");
  const source = text.source === "" ? undefined : parsePrefix(text.source);
  if (text.source !== "" && !source) {
    throw invalid(`route ${shown}: source ${JSON.stringify(text.source)} is not an address or prefix`);
  }
  const family = familyOfRoute(text, [dest, gateway, source]);
  for (const [what, value, max] of [
    ["scope", text.scope, 0xff],
    ["flags", text.flags, 0xffffffff],
    ["mtu", text.mtu, 0xffffffff],
  ] as const) {
    if (!Number.isInteger(value) || value < 0 || value > max)
      throw invalid(`route ${shown}: ${what} ${value} is out of range`);
  }
  const route: Route = {
    family,
    dstLength: dest?.length ?? 0,
    srcLength: 0,
    tos: 0,
    table: RT_TABLE_MAIN,
    protocol: RTPROT_BOOT,
    scope: text.scope,
    type: RTN_UNICAST,
    flags: text.flags,
    oif: index,
  };
  if (dest && dest.length > 0) route.dst = dest.bytes;
  if (gateway) route.gateway = gateway.bytes;
  if (text.mtu > 0) route.mtu = text.mtu;
  if (source) {
    const full = source.length === (family === AF_INET ? 32 : 128);
    if (!sourceIsPrefix || (family === AF_INET && full)) {
      route.prefsrc = source.bytes;
    } else if (family === AF_INET) {
      throw invalid(
        `route ${shown}: IPv4 routes have no source prefix (${text.source}); give the preferred source address`,
      );
    } else {
      route.src = source.bytes;
      route.srcLength = source.length;
    }
  }
  return route;
}

export function planRoutes(
  texts: readonly RouteText[],
  linkIndex: (name: string) => number | undefined,
): Route[] {
  if (texts.length > MAX_ROUTES) throw invalid(`${texts.length} routes, more than ${MAX_ROUTES}`);
  return texts.map((t) => planRoute(t, linkIndex));
}
