import { AF_INET, parseIp } from "./ip-address.js";
import { type Route, RT_TABLE_MAIN, RTPROT_BOOT } from "./netlink/route-message.js";

/** An address's bytes, for tests; throws on text that is not an address. */
export function ipBytes(text: string): Uint8Array {
  const ip = parseIp(text);
  if (!ip) throw new Error(`not an IP: ${text}`);
  return ip.bytes;
}

/** The main-table route 10.1.0.0/16 via 10.0.0.1 on link 2 (protocol boot), with `fields` over it. */
export const testRoute = (fields: Partial<Route> = {}): Route => ({
  family: AF_INET,
  dstLength: 16,
  srcLength: 0,
  tos: 0,
  table: RT_TABLE_MAIN,
  protocol: RTPROT_BOOT,
  scope: 0,
  type: 1,
  flags: 0,
  dst: ipBytes("10.1.0.0"),
  gateway: ipBytes("10.0.0.1"),
  oif: 2,
  ...fields,
});
