import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AF_INET, AF_INET6, parseIp } from "./ip-address.js";
import { type Route, RT_TABLE_MAIN, RTPROT_BOOT, RTPROT_KERNEL } from "./netlink/route-message.js";
import { routeKey } from "./route-update.js";

const bytes = (text: string) => {
  const ip = parseIp(text);
  if (!ip) throw new Error(`not an IP: ${text}`);
  return ip.bytes;
};

const v4 = (fields: Partial<Route> = {}): Route => ({
  family: AF_INET,
  dstLength: 16,
  srcLength: 0,
  tos: 0,
  table: RT_TABLE_MAIN,
  protocol: RTPROT_BOOT,
  scope: 0,
  type: 1,
  flags: 0,
  dst: bytes("10.1.0.0"),
  gateway: bytes("10.0.0.1"),
  oif: 2,
  ...fields,
});

const v6 = (fields: Partial<Route> = {}): Route =>
  v4({ family: AF_INET6, dstLength: 64, dst: bytes("2001:db8:1::"), gateway: bytes("fe80::1"), ...fields });

describe("routeKey()", () => {
  it("is what a replace overwrites by: not the gateway, device, preferred source, scope, MTU or protocol", () => {
    const other = v4({
      gateway: bytes("10.0.0.9"),
      oif: 3,
      prefsrc: bytes("10.0.0.2"),
      scope: 253,
      mtu: 1400,
      protocol: RTPROT_KERNEL,
      flags: 4,
    });
    assert.equal(routeKey(v4()), routeKey(other));
  });

  it("tells apart family, table, destination, source prefix, TOS and metric", () => {
    const variants = [
      v6(),
      v4({ table: 100 }),
      v4({ dst: bytes("10.2.0.0") }),
      v4({ dstLength: 24 }),
      v6({ src: bytes("2001:db8::"), srcLength: 64 }),
      v4({ tos: 8 }),
      v4({ priority: 5 }),
    ];
    const keys = new Set([v4(), ...variants].map(routeKey));
    assert.equal(keys.size, variants.length + 1);
  });

  it("gives a route without a metric the kernel's default: 0 for IPv4, 1024 for IPv6", () => {
    assert.equal(routeKey(v4()), routeKey(v4({ priority: 0 })));
    assert.equal(routeKey(v6()), routeKey(v6({ priority: 1024 })));
    assert.notEqual(routeKey(v6()), routeKey(v6({ priority: 256 })), "the kernel's own IPv6 routes have 256");
  });

  it("writes a default route's destination alike, with or without a zero address", () => {
    const { dst: _, ...noDst } = v4({ dstLength: 0 });
    assert.equal(routeKey(noDst), routeKey(v4({ dstLength: 0, dst: bytes("0.0.0.0") })));
  });

  it("keys a prefix by its network, as the kernel stores it (it clears an IPv6 prefix's host bits)", () => {
    assert.equal(routeKey(v6({ dst: bytes("2001:db8:1::5") })), routeKey(v6()));
    assert.equal(
      routeKey(v6({ src: bytes("2001:db8::7"), srcLength: 64 })),
      routeKey(v6({ src: bytes("2001:db8::"), srcLength: 64 })),
    );
  });
});
