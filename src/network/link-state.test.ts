import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AF_INET, AF_INET6, type Family } from "./ip-address.js";
import {
  addressToAdd,
  gatewaysLast,
  isKernelLinkLocal,
  isManagedRoute,
  linkAddressKey,
  routeIdentity,
} from "./link-state.js";
import { IFA_F_NODAD, type LinkAddress } from "./netlink/address-message.js";
import { type Route, RTPROT_KERNEL, RTPROT_RA } from "./netlink/route-message.js";
import { ipBytes as bytes, testRoute } from "./routes.test-util.js";

const RTPROT_STATIC = 4;

const address = (text: string, prefixLength: number): LinkAddress => ({
  family: (text.includes(":") ? AF_INET6 : AF_INET) as Family,
  prefixLength,
  flags: 0,
  scope: 0,
  index: 2,
  address: bytes(text),
});

describe("routeIdentity()", () => {
  it("is the same for the same route, decoded twice", () => {
    assert.equal(routeIdentity(testRoute()), routeIdentity(testRoute({ dst: bytes("10.1.0.0") })));
  });

  it("tells apart routes that differ in any of what the kernel keeps of them", () => {
    const variants: Partial<Route>[] = [
      { family: AF_INET6, dst: bytes("2001:db8::"), gateway: bytes("fe80::1") },
      { table: 100 },
      { dst: bytes("10.2.0.0") },
      { dstLength: 24 },
      { src: bytes("10.0.0.0"), srcLength: 24 },
      { tos: 8 },
      { priority: 100 },
      { gateway: bytes("10.0.0.9") },
      { oif: 3 },
      { prefsrc: bytes("10.0.0.2") },
      { scope: 253 },
      { mtu: 1400 },
    ];
    const identities = new Set([testRoute(), ...variants.map((v) => testRoute(v))].map(routeIdentity));
    assert.equal(identities.size, variants.length + 1);
  });

  it("ignores what a restore need not match: protocol, type and flags", () => {
    assert.equal(routeIdentity(testRoute()), routeIdentity(testRoute({ protocol: RTPROT_RA, flags: 4 })));
  });
});

describe("gatewaysLast()", () => {
  it("puts routes without a gateway first, each group in its own order", () => {
    const sorted = gatewaysLast(
      [
        { name: "a", gateway: bytes("10.0.0.1") },
        { name: "b" },
        { name: "c", gateway: bytes("10.0.0.2") },
        { name: "d", gateway: undefined },
      ],
      (r) => r.gateway,
    );
    assert.deepEqual(
      sorted.map((r) => r.name),
      ["b", "d", "a", "c"],
    );
  });

  it("leaves an empty list empty", () => {
    assert.deepEqual(
      gatewaysLast([], (r: Route) => r.gateway),
      [],
    );
  });
});

describe("isManagedRoute()", () => {
  it("is a main-table route not made by the kernel, for an address or from a router advertisement", () => {
    assert.equal(isManagedRoute(testRoute()), true);
    assert.equal(isManagedRoute(testRoute({ protocol: RTPROT_STATIC })), true);
    assert.equal(isManagedRoute(testRoute({ protocol: RTPROT_KERNEL })), false);
    assert.equal(isManagedRoute(testRoute({ protocol: RTPROT_RA })), false);
    assert.equal(isManagedRoute(testRoute({ table: 100 })), false);
  });
});

describe("isKernelLinkLocal()", () => {
  it("is an IPv6 address in fe80::/10, nothing else", () => {
    assert.equal(isKernelLinkLocal(address("fe80::1", 64)), true);
    assert.equal(isKernelLinkLocal(address("febf::1", 64)), true);
    assert.equal(isKernelLinkLocal(address("fec0::1", 64)), false);
    assert.equal(isKernelLinkLocal(address("2001:db8::1", 64)), false);
    assert.equal(isKernelLinkLocal(address("254.128.0.1", 16)), false);
  });
});

describe("addressToAdd() and linkAddressKey()", () => {
  it("adds IPv6 addresses without DAD and IPv4 ones without flags, the kernel's own flags dropped", () => {
    const v6 = addressToAdd({ ...address("2001:db8::2", 64), flags: 0x80 });
    assert.equal(v6.flags, IFA_F_NODAD);
    assert.equal(addressToAdd({ ...address("10.0.0.2", 24), flags: 0x01 }).flags, 0);
  });

  it("keeps the scope of an address put back, universe when none is given", () => {
    assert.equal(addressToAdd({ ...address("10.0.0.2", 24), scope: 253 }).scope, 253);
    const { scope: _, ...noScope } = address("10.0.0.2", 24);
    assert.equal(addressToAdd(noScope).scope, 0);
  });

  it("keys an address by its text and prefix length", () => {
    assert.equal(linkAddressKey(address("2001:db8:0::2", 64)), "2001:db8::2/64");
    assert.notEqual(linkAddressKey(address("10.0.0.2", 24)), linkAddressKey(address("10.0.0.2", 16)));
  });
});
