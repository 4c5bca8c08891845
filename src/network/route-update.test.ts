import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AF_INET6 } from "./ip-address.js";
import { type Route, RTPROT_KERNEL } from "./netlink/route-message.js";
import { routeKey } from "./route-update.js";
import { ipBytes as bytes, testRoute } from "./routes.test-util.js";

const v6 = (fields: Partial<Route> = {}): Route =>
  testRoute({
    family: AF_INET6,
    dstLength: 64,
    dst: bytes("2001:db8:1::"),
    gateway: bytes("fe80::1"),
    ...fields,
  });

describe("routeKey()", () => {
  it("is what a replace overwrites by: not the gateway, device, preferred source, scope, MTU or protocol", () => {
    const other = testRoute({
      gateway: bytes("10.0.0.9"),
      oif: 3,
      prefsrc: bytes("10.0.0.2"),
      scope: 253,
      mtu: 1400,
      protocol: RTPROT_KERNEL,
      flags: 4,
    });
    assert.equal(routeKey(testRoute()), routeKey(other));
  });

  it("tells apart family, table, destination, source prefix, TOS and metric", () => {
    const variants = [
      v6(),
      testRoute({ table: 100 }),
      testRoute({ dst: bytes("10.2.0.0") }),
      testRoute({ dstLength: 24 }),
      v6({ src: bytes("2001:db8::"), srcLength: 64 }),
      testRoute({ tos: 8 }),
      testRoute({ priority: 5 }),
    ];
    const keys = new Set([testRoute(), ...variants].map(routeKey));
    assert.equal(keys.size, variants.length + 1);
  });

  it("gives a route without a metric the kernel's default: 0 for IPv4, 1024 for IPv6", () => {
    assert.equal(routeKey(testRoute()), routeKey(testRoute({ priority: 0 })));
    assert.equal(routeKey(v6()), routeKey(v6({ priority: 1024 })));
    assert.notEqual(routeKey(v6()), routeKey(v6({ priority: 256 })), "the kernel's own IPv6 routes have 256");
  });

  it("writes a default route's destination alike, with or without a zero address", () => {
    const { dst: _, ...noDst } = testRoute({ dstLength: 0 });
    assert.equal(routeKey(noDst), routeKey(testRoute({ dstLength: 0, dst: bytes("0.0.0.0") })));
  });

  it("keys a prefix by its network, as the kernel stores it (it clears an IPv6 prefix's host bits)", () => {
    assert.equal(routeKey(v6({ dst: bytes("2001:db8:1::5") })), routeKey(v6()));
    assert.equal(
      routeKey(v6({ src: bytes("2001:db8::7"), srcLength: 64 })),
      routeKey(v6({ src: bytes("2001:db8::"), srcLength: 64 })),
    );
  });
});
