import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "../errors.js";
import { AF_INET, AF_INET6, parseIp } from "./ip-address.js";
import { RT_TABLE_MAIN, RTN_UNICAST, RTPROT_BOOT } from "./netlink/route-message.js";
import { type RouteText, WIRE_V4, WIRE_V6 } from "./network-types.js";
import { describeRoute, planRoute, planRoutes } from "./route-plan.js";

const text = (fields: Partial<RouteText>): RouteText => ({
  dest: "",
  gateway: "",
  device: "eth0",
  source: "",
  scope: 0,
  family: WIRE_V4,
  flags: 0,
  mtu: 0,
  ...fields,
});

const links = new Map([
  ["eth0", 2],
  ["eth1", 3],
]);
const linkIndex = (name: string) => links.get(name);
const ip = (s: string) => parseIp(s)?.bytes;

const refused = (code: Code, pattern: RegExp) => (e: unknown) =>
  (e as { code?: unknown }).code === code && pattern.test((e as Error).message);
const invalid = (pattern: RegExp) => refused(Code.INVALID_ARGUMENT, pattern);

describe("planRoute()", () => {
  it("makes a main-table unicast route of protocol boot on the named link", () => {
    assert.deepEqual(
      planRoute(text({ dest: "10.1.0.0/16", gateway: "10.0.0.1", device: "eth1" }), linkIndex),
      {
        family: AF_INET,
        dstLength: 16,
        srcLength: 0,
        tos: 0,
        table: RT_TABLE_MAIN,
        protocol: RTPROT_BOOT,
        scope: 0,
        type: RTN_UNICAST,
        flags: 0,
        oif: 3,
        dst: ip("10.1.0.0"),
        gateway: ip("10.0.0.1"),
      },
    );
  });

  it("takes '' and 'default' as the default route, with no destination attribute", () => {
    for (const dest of ["", "default"]) {
      const route = planRoute(text({ dest, gateway: "10.0.0.1" }), linkIndex);
      assert.equal(route.dstLength, 0);
      assert.equal(route.dst, undefined);
    }
    const v6 = planRoute(text({ dest: "::/0", gateway: "fe80::1", family: WIRE_V6 }), linkIndex);
    assert.equal(v6.dstLength, 0);
    assert.equal(v6.dst, undefined);
  });

  it("takes a bare address as a host route", () => {
    assert.equal(planRoute(text({ dest: "169.254.1.1" }), linkIndex).dstLength, 32);
    assert.equal(planRoute(text({ dest: "2001:db8::1", family: WIRE_V6 }), linkIndex).dstLength, 128);
  });

  it("carries scope, flags (onlink) and MTU", () => {
    const route = planRoute(text({ dest: "10.1.0.0/16", scope: 253, flags: 4, mtu: 1400 }), linkIndex);
    assert.equal(route.scope, 253);
    assert.equal(route.flags, 4);
    assert.equal(route.mtu, 1400);
    assert.equal(planRoute(text({ dest: "10.1.0.0/16" }), linkIndex).mtu, undefined, "mtu 0 sets none");
  });

  it("takes the family from the addresses: family v4 (the wire's default) with IPv6 addresses is IPv6", () => {
    assert.equal(planRoute(text({ dest: "2001:db8::/64" }), linkIndex).family, AF_INET6);
    assert.equal(planRoute(text({ gateway: "fe80::1" }), linkIndex).family, AF_INET6);
    assert.equal(
      planRoute(text({ family: WIRE_V6 }), linkIndex).family,
      AF_INET6,
      "no address: the family given",
    );
    assert.equal(planRoute(text({}), linkIndex).family, AF_INET);
  });

  it("makes a plain source the preferred source, in both families", () => {
    const v4 = planRoute(text({ dest: "10.1.0.0/16", source: "10.0.0.2" }), linkIndex);
    assert.deepEqual(v4.prefsrc, ip("10.0.0.2"));
    assert.equal(v4.src, undefined);
    assert.equal(v4.srcLength, 0);
    const v6 = planRoute(
      text({ dest: "2001:db8:1::/64", source: "2001:db8::2", family: WIRE_V6 }),
      linkIndex,
    );
    assert.deepEqual(v6.prefsrc, ip("2001:db8::2"));
    assert.equal(v6.src, undefined);
  });

  it("makes an IPv4 /32 source the preferred source and an IPv6 source prefix a source-specific route", () => {
    assert.deepEqual(planRoute(text({ source: "10.0.0.2/32" }), linkIndex).prefsrc, ip("10.0.0.2"));
    const v6 = planRoute(
      text({ dest: "2001:db8:1::/64", source: "2001:db8::/64", family: WIRE_V6 }),
      linkIndex,
    );
    assert.deepEqual(v6.src, ip("2001:db8::"));
    assert.equal(v6.srcLength, 64);
    assert.equal(v6.prefsrc, undefined);
    const host = planRoute(text({ source: "2001:db8::2/128", family: WIRE_V6 }), linkIndex);
    assert.equal(host.srcLength, 128, "an IPv6 /128 source is a prefix too");
    assert.equal(host.prefsrc, undefined);
  });

  it("refuses an IPv4 source prefix other than /32", () => {
    assert.throws(
      () => planRoute(text({ dest: "10.1.0.0/16", source: "10.0.0.0/24" }), linkIndex),
      invalid(/route 10\.1\.0\.0\/16 dev eth0 src 10\.0\.0\.0\/24: IPv4 routes have no source prefix/),
    );
  });

  it("answers 'Link not found (Name: …)' for a device no link has, and refuses a route without a device", () => {
    assert.throws(
      () => planRoute(text({ device: "eth9" }), linkIndex),
      refused(Code.NOT_FOUND, /^Link not found \(Name: eth9\)$/),
    );
    assert.throws(() => planRoute(text({ device: "" }), linkIndex), invalid(/route default names no device/));
  });

  it("refuses bad destinations, gateways and sources, quoting them", () => {
    const cases: [Partial<RouteText>, RegExp][] = [
      [{ dest: "10.1.0.0/33" }, /destination "10\.1\.0\.0\/33" is not an address or prefix/],
      [{ dest: "10.1.0/16" }, /destination "10\.1\.0\/16"/],
      [{ dest: "2001:db8::/129" }, /destination "2001:db8::\/129"/],
      [{ dest: "10.1.0.0/16 " }, /destination "10\.1\.0\.0\/16 "/],
      [{ gateway: "10.0.0.300" }, /gateway "10\.0\.0\.300" is not an IP address/],
      [{ gateway: "10.0.0.0/24" }, /gateway "10\.0\.0\.0\/24"/],
      [{ gateway: "fe80::1%eth0" }, /gateway "fe80::1%eth0"/],
      [{ source: "x" }, /source "x" is not an address or prefix/],
    ];
    for (const [fields, pattern] of cases) {
      assert.throws(() => planRoute(text(fields), linkIndex), invalid(pattern), JSON.stringify(fields));
    }
  });

  it("refuses mixed families, IPv4 addresses under family v6 and a family neither v4 nor v6", () => {
    assert.throws(
      () => planRoute(text({ dest: "10.1.0.0/16", gateway: "fe80::1" }), linkIndex),
      invalid(/mixes IPv4 and IPv6 addresses/),
    );
    assert.throws(
      () => planRoute(text({ dest: "2001:db8::/64", source: "10.0.0.2" }), linkIndex),
      invalid(/mixes IPv4 and IPv6 addresses/),
    );
    assert.throws(
      () => planRoute(text({ dest: "10.1.0.0/16", family: WIRE_V6 }), linkIndex),
      invalid(/has IPv4 addresses but its family is v6/),
    );
    assert.throws(
      () => planRoute(text({ family: 2 }), linkIndex),
      invalid(/has family 2, neither v4 \(0\) nor v6 \(1\)/),
    );
  });

  it("refuses a scope past 8 bits, and flags or an MTU that are not 32-bit counts", () => {
    const cases: [Partial<RouteText>, RegExp][] = [
      [{ scope: 256 }, /scope 256 is out of range/],
      [{ scope: -1 }, /scope -1 is out of range/],
      [{ flags: 2 ** 32 }, /flags 4294967296 is out of range/],
      [{ mtu: 1.5 }, /mtu 1\.5 is out of range/],
    ];
    for (const [fields, pattern] of cases)
      assert.throws(() => planRoute(text(fields), linkIndex), invalid(pattern));
  });
});

describe("planRoutes()", () => {
  it("plans each route in order, and refuses the whole request at its first bad route", () => {
    const routes = planRoutes(
      [text({ dest: "10.1.0.0/16" }), text({ dest: "10.2.0.0/16", device: "eth1" })],
      linkIndex,
    );
    assert.deepEqual(
      routes.map((r) => r.oif),
      [2, 3],
    );
    assert.throws(
      () => planRoutes([text({ dest: "10.1.0.0/16" }), text({ device: "eth9" })], linkIndex),
      refused(Code.NOT_FOUND, /eth9/),
    );
  });

  it("refuses more than 4096 routes", () => {
    const many = Array.from({ length: 4097 }, () => text({}));
    assert.throws(() => planRoutes(many, linkIndex), invalid(/4097 routes, more than 4096/));
  });
});

describe("describeRoute()", () => {
  it("writes a route as `ip route` would", () => {
    assert.equal(describeRoute(text({ gateway: "10.0.0.1" })), "default via 10.0.0.1 dev eth0");
    assert.equal(
      describeRoute(text({ dest: "10.1.0.0/16", device: "eth1", source: "10.0.0.2" })),
      "10.1.0.0/16 dev eth1 src 10.0.0.2",
    );
    assert.equal(describeRoute(text({ dest: "10.1.0.0/16", device: "" })), "10.1.0.0/16");
  });
});
