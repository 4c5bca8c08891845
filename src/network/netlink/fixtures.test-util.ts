import { readFileSync } from "node:fs";
import { type NetlinkMessage, splitMessages } from "./netlink-message.js";

const TESTDATA = new URL("../../../../src/network/netlink/testdata/", import.meta.url);

/** One request berth encoded and every datagram the kernel answered it with, as hex. */
export interface Exchange {
  request: string;
  datagrams: string[];
}

export type IpObject = Record<string, unknown>;

export interface LinksFixture {
  dump: Exchange & { ip: IpObject[] };
  get: { veth0: Exchange & { index: number }; missing: Exchange & { index: number } };
}

export interface AddressesFixture {
  dump: Exchange & { ip: (IpObject & { ifindex: number; addr_info: IpObject[] })[] };
}

export interface RoutesFixture {
  dump: Exchange & { ip: { inet: IpObject[]; inet6: IpObject[] } };
}

export interface NeighboursFixture {
  dump: Exchange & { ip: IpObject[] };
}

export interface ChangesFixture {
  accepted: (Exchange & { what: string })[];
  refused: (Exchange & { what: string; ip: { argv: string[]; stderr: string } })[];
}

/** A recorded fixture of src/network/netlink/testdata (see its README.md). */
export function fixture<T>(name: "links" | "addresses" | "routes" | "neighbours" | "changes"): T {
  return JSON.parse(readFileSync(new URL(`${name}.json`, TESTDATA), "utf8")) as T;
}

/** Bytes from hex, blanks ignored (so that hand-written bytes can be grouped). */
export const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ""), "hex");

export const datagramsOf = (exchange: Exchange) => exchange.datagrams.map((d) => hex(d));

/** Every message of every datagram of `exchange`, in order. */
export const messagesOf = (exchange: Exchange): NetlinkMessage[] =>
  datagramsOf(exchange).flatMap((d) => splitMessages(d));

/** The payloads of the messages of `type` in `exchange`. */
export const payloadsOf = (exchange: Exchange, type: number) =>
  messagesOf(exchange)
    .filter((m) => m.type === type)
    .map((m) => m.payload);

/** The link names of a `ip -j link` listing by index, as `ip` resolves `dev`. */
export const linkNames = (links: readonly IpObject[]) =>
  new Map(links.map((l) => [l.ifindex as number, l.ifname as string]));
