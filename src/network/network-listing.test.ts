import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AF_INET, AF_INET6, type Family } from "./ip-address.js";
import type { LinkAddress } from "./netlink/address-message.js";
import type { Link } from "./netlink/link-message.js";
import { type Route, RT_TABLE_MAIN, RTPROT_BOOT, RTPROT_KERNEL } from "./netlink/route-message.js";
import { addressText, interfaceText, routeTexts } from "./network-listing.js";
import { WIRE_V4, WIRE_V6 } from "./network-types.js";
import { ipBytes as bytes } from "./routes.test-util.js";

const eth0: Link = {
  index: 2,
  linkType: 1,
  flags: 0x1003,
  name: "eth0",
  mtu: 1450,
  address: Uint8Array.from([0x02, 0xab, 0xcd, 0, 0, 0x0f]),
  operState: "UP",
  kind: "veth",
};
const lo: Link = { index: 1, linkType: 772, flags: 0x49, name: "lo", mtu: 65536, operState: "UNKNOWN" };

const address = (index: number, text: string, prefixLength: number): LinkAddress => ({
  family: (text.includes(":") ? AF_INET6 : AF_INET) as Family,
  prefixLength,
  flags: 0,
  scope: 0,
  index,
  address: bytes(text),
});

const route = (fields: Partial<Route> & { family: Family }): Route => ({
  dstLength: 0,
  srcLength: 0,
  tos: 0,
  table: RT_TABLE_MAIN,
  protocol: RTPROT_BOOT,
  scope: 0,
  type: 1,
  flags: 0,
  oif: 2,
  ...fields,
});

describe("interfaceText()", () => {
  it("gives a link its own addresses only, each with the wire's family, the MAC lowercase", () => {
    const addresses = [address(2, "10.0.0.2", 24), address(1, "127.0.0.1", 8), address(2, "2001:db8::2", 64)];
    assert.deepEqual(interfaceText(eth0, addresses), {
      device: "",
      name: "eth0",
      addresses: [
        { family: WIRE_V4, address: "10.0.0.2", mask: "24" },
        { family: WIRE_V6, address: "2001:db8::2", mask: "64" },
      ],
      mtu: 1450,
      hwAddr: "02:ab:cd:00:00:0f",
      devicePath: "",
      type: "veth",
      rawFlags: 0x1003,
    });
  });

  it("leaves hwAddr and type empty for a link without a MAC or a driver kind", () => {
    const text = interfaceText(lo, [address(1, "127.0.0.1", 8)]);
    assert.equal(text.hwAddr, "");
    assert.equal(text.type, "");
    assert.deepEqual(text.addresses, [{ family: WIRE_V4, address: "127.0.0.1", mask: "8" }]);
  });
});

describe("addressText()", () => {
  it("writes IPv6 as inet_ntop does", () => {
    assert.deepEqual(addressText(address(2, "2001:0DB8:0:0:0:0:0:2", 64)), {
      family: WIRE_V6,
      address: "2001:db8::2",
      mask: "64",
    });
  });
});

describe("routeTexts()", () => {
  const links = [lo, eth0];

  it("gives a gateway route its real destination (Kata says 0.0.0.0 or ::1) and the right family", () => {
    const [v4, v6] = routeTexts(
      [
        route({ family: AF_INET, dst: bytes("10.1.0.0"), dstLength: 16, gateway: bytes("10.0.0.1") }),
        route({ family: AF_INET6, dst: bytes("2001:db8:1::"), dstLength: 64, gateway: bytes("fe80::1") }),
      ],
      links,
    );
    assert.deepEqual(v4, {
      dest: "10.1.0.0/16",
      gateway: "10.0.0.1",
      device: "eth0",
      source: "",
      scope: 0,
      family: WIRE_V4,
      flags: 0,
      mtu: 0,
    });
    assert.equal(v6?.dest, "2001:db8:1::/64");
    assert.equal(v6?.gateway, "fe80::1");
    assert.equal(v6?.family, WIRE_V6);
  });

  it("lists default routes with dest '', with or without a gateway (Kata drops `default dev eth0`)", () => {
    const texts = routeTexts(
      [route({ family: AF_INET, gateway: bytes("10.0.0.1") }), route({ family: AF_INET, scope: 253 })],
      links,
    );
    assert.deepEqual(
      texts.map((t) => [t.dest, t.gateway, t.device, t.scope]),
      [
        ["", "10.0.0.1", "eth0", 0],
        ["", "", "eth0", 253],
      ],
    );
  });

  it("shows the preferred source as an address, a source prefix as addr/len", () => {
    const [kernel, specific] = routeTexts(
      [
        route({
          family: AF_INET,
          dst: bytes("10.0.0.0"),
          dstLength: 24,
          protocol: RTPROT_KERNEL,
          scope: 253,
          prefsrc: bytes("10.0.0.2"),
        }),
        route({
          family: AF_INET6,
          dst: bytes("2001:db8:1::"),
          dstLength: 64,
          src: bytes("2001:db8::"),
          srcLength: 64,
          gateway: bytes("fe80::1"),
        }),
      ],
      links,
    );
    assert.equal(kernel?.source, "10.0.0.2");
    assert.equal(specific?.source, "2001:db8::/64");
  });

  it("carries MTU and flags; leaves the device empty for an unknown or missing link", () => {
    const { oif: _, ...noOif } = route({ family: AF_INET });
    const [known, unknown, none] = routeTexts(
      [route({ family: AF_INET, mtu: 1400, flags: 4 }), route({ family: AF_INET, oif: 99 }), noOif],
      links,
    );
    assert.equal(known?.mtu, 1400);
    assert.equal(known?.flags, 4);
    assert.equal(unknown?.device, "");
    assert.equal(none?.device, "");
  });

  it("lists only the main table", () => {
    const texts = routeTexts(
      [
        route({ family: AF_INET, table: 255 }),
        route({ family: AF_INET, table: 100 }),
        route({ family: AF_INET }),
      ],
      links,
    );
    assert.equal(texts.length, 1);
  });
});
