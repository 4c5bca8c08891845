import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatIp, parseIp } from "../ip-address.js";
import {
  addressBody,
  decodeAddress,
  IFA_F_NODAD,
  IFA_F_PERMANENT,
  IFA_F_TENTATIVE,
  ifaddrmsg,
  type LinkAddress,
  RT_SCOPE_HOST,
  RT_SCOPE_LINK,
  RT_SCOPE_UNIVERSE,
  RTM_GETADDR,
  RTM_NEWADDR,
} from "./address-message.js";
import {
  type AddressesFixture,
  type ChangesFixture,
  fixture,
  hex,
  payloadsOf,
} from "./fixtures.test-util.js";
import { addressAsIp, ipAddressFields } from "./ip-json.test-util.js";
import {
  encodeMessage,
  NetlinkDecodeError,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_REPLACE,
  NLM_F_REQUEST,
  splitMessages,
} from "./netlink-message.js";

const addresses = fixture<AddressesFixture>("addresses");
const changes = fixture<ChangesFixture>("changes");
const decoded = payloadsOf(addresses.dump, RTM_NEWADDR).map(decodeAddress);
const find = (text: string) => decoded.find((a) => formatIp(a.address) === text);
const bytes = (text: string) => parseIp(text)?.bytes ?? new Uint8Array();
const change = { type: RTM_NEWADDR, flags: NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE };

describe("decodeAddress() on recorded kernel bytes", () => {
  it("decodes every address of a dump as `ip -j addr` showed it, link by link, in order", () => {
    const total = addresses.dump.ip.reduce((n, link) => n + link.addr_info.length, 0);
    assert.equal(decoded.length, total);
    for (const link of addresses.dump.ip) {
      assert.deepEqual(
        decoded.filter((a) => a.index === link.ifindex).map(addressAsIp),
        link.addr_info.map(ipAddressFields),
        `the addresses of ${link.ifname}`,
      );
    }
  });

  it("reads local, peer, prefix length, scope, label and flags (nodad, permanent, tentative)", () => {
    assert.deepEqual(find("10.2.0.1")?.peer, bytes("10.2.0.2"));
    assert.equal(find("10.2.0.1")?.prefixLength, 32);
    assert.equal(find("10.1.0.2")?.peer, undefined);
    assert.equal(find("10.1.0.3")?.label, "veth0:1");
    assert.equal(find("127.0.0.1")?.scope, RT_SCOPE_HOST);
    assert.equal(find("10.1.0.2")?.scope, RT_SCOPE_UNIVERSE);
    const v6 = find("2001:db8:1::2");
    assert.equal(v6?.family, 10);
    assert.equal(v6?.prefixLength, 64);
    assert.equal((v6?.flags ?? 0) & IFA_F_NODAD, IFA_F_NODAD);
    assert.equal((v6?.flags ?? 0) & IFA_F_PERMANENT, IFA_F_PERMANENT);
    const linkLocal = decoded.filter((a) => a.scope === RT_SCOPE_LINK && a.family === 10);
    assert.ok(linkLocal.length > 0);
    assert.ok(
      linkLocal.some((a) => a.flags & IFA_F_TENTATIVE),
      "DAD was running on some link when recorded",
    );
  });

  it("shows the addresses berth's own RTM_NEWADDRs made", () => {
    assert.equal(find("10.3.0.2")?.prefixLength, 24);
    assert.equal((find("2001:db8:3::2")?.flags ?? 0) & IFA_F_NODAD, IFA_F_NODAD);
  });

  it("refuses an unknown family, a missing address and an address of the wrong size", () => {
    assert.throws(() => decodeAddress(Buffer.alloc(7)), NetlinkDecodeError);
    assert.throws(() => decodeAddress(ifaddrmsg(7, 24, 0, 0, 1)), NetlinkDecodeError);
    assert.throws(() => decodeAddress(ifaddrmsg(2, 24, 0, 0, 1)), NetlinkDecodeError);
    const v6Size = Buffer.concat([ifaddrmsg(10, 64, 0, 0, 1), hex("0800 0100 0a000001")]);
    assert.throws(() => decodeAddress(v6Size), NetlinkDecodeError);
  });

  it("takes the 8 flag bits of ifaddrmsg when IFA_FLAGS is absent", () => {
    const payload = Buffer.concat([ifaddrmsg(2, 8, 0x80, 254, 1), hex("0800 0200 7f000001")]);
    assert.equal(decodeAddress(payload).flags, 0x80);
  });
});

describe("address requests, byte for byte", () => {
  it("encodes RTM_NEWADDR of an IPv4 address as hand-computed (and the kernel accepted)", () => {
    const address: LinkAddress = {
      family: 2,
      prefixLength: 24,
      flags: 0,
      scope: 0,
      index: 8,
      address: bytes("10.3.0.2"),
    };
    const { fixed, attributes } = addressBody(address);
    const expected = hex(`
      3000 0000  1400  0505  eb03 0000  0000 0000
      02 18 00 00  0800 0000
      0800 0200  0a03 0002
      0800 0100  0a03 0002
      0800 0800  0000 0000`);
    assert.deepEqual(encodeMessage({ ...change, seq: 1003 }, fixed, attributes), expected);
    assert.deepEqual(
      expected,
      hex(changes.accepted.find((c) => c.what === "add 10.3.0.2/24 to veth2")?.request ?? ""),
    );
  });

  it("encodes an IPv6 address with nodad as IFA_ADDRESS only, flags in both places", () => {
    const address: LinkAddress = {
      ...{ family: 10, prefixLength: 64, flags: IFA_F_NODAD, scope: 0, index: 8 },
      address: bytes("2001:db8:3::2"),
    };
    const { fixed, attributes } = addressBody(address);
    const expected = hex(`
      3400 0000  1400  0505  ec03 0000  0000 0000
      0a 40 02 00  0800 0000
      1400 0100  2001 0db8 0003 0000 0000 0000 0000 0002
      0800 0800  0200 0000`);
    assert.deepEqual(encodeMessage({ ...change, seq: 1004 }, fixed, attributes), expected);
    const recorded = changes.accepted.find((c) => c.what.startsWith("add 2001:db8:3::2/64"));
    assert.deepEqual(expected, hex(recorded?.request ?? ""));
  });

  it("encodes the dump of every address as recorded", () => {
    const seq = splitMessages(hex(addresses.dump.request))[0]?.seq ?? 0;
    const request = encodeMessage(
      { type: RTM_GETADDR, flags: NLM_F_REQUEST | NLM_F_DUMP, seq },
      ifaddrmsg(0, 0, 0, 0, 0),
    );
    assert.deepEqual(request, hex(addresses.dump.request));
  });

  it("round-trips IPv4, IPv4 with a peer and IPv6 addresses, flags past 8 bits included", () => {
    const cases: LinkAddress[] = [
      { family: 2, prefixLength: 16, flags: 0, scope: 0, index: 3, address: bytes("192.168.1.1") },
      {
        family: 2,
        prefixLength: 32,
        flags: 0,
        scope: 0,
        index: 3,
        address: bytes("10.0.0.1"),
        peer: bytes("10.0.0.2"),
      },
      {
        family: 10,
        prefixLength: 128,
        flags: IFA_F_NODAD | 0x200,
        scope: 0,
        index: 4,
        address: bytes("fd00::1"),
      },
      { family: 10, prefixLength: 64, flags: 0, scope: RT_SCOPE_LINK, index: 4, address: bytes("fe80::1") },
    ];
    for (const address of cases) {
      const { fixed, attributes } = addressBody(address);
      const [message] = splitMessages(encodeMessage({ ...change, seq: 1 }, fixed, attributes));
      assert.deepEqual(message && decodeAddress(message.payload), address);
    }
  });
});
