import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPrng } from "../../test/support/prng.js";
import {
  AF_INET,
  AF_INET6,
  familyOf,
  formatIp,
  formatMac,
  networkOf,
  parseIp,
  parseMac,
  parsePrefix,
  parsePrefixLength,
  sameBytes,
} from "./ip-address.js";

const v6 = (...groups: number[]) => {
  const out = Buffer.alloc(16);
  for (const [i, g] of groups.entries()) out.writeUInt16BE(g, 2 * i);
  return Uint8Array.from(out);
};

describe("parseIp()", () => {
  it("reads IPv4 dotted quads", () => {
    assert.deepEqual(parseIp("0.0.0.0"), { family: AF_INET, bytes: Uint8Array.of(0, 0, 0, 0) });
    assert.deepEqual(parseIp("255.255.255.255")?.bytes, Uint8Array.of(255, 255, 255, 255));
    assert.deepEqual(parseIp("10.1.0.2")?.bytes, Uint8Array.of(10, 1, 0, 2));
  });

  it("refuses IPv4 with leading zeros, out-of-range parts, the wrong number of parts, blanks or signs", () => {
    for (const text of [
      "01.2.3.4",
      "1.2.3.04",
      "1.2.3.00",
      "256.1.1.1",
      "1.2.3.1000",
      "1.2.3",
      "1.2.3.4.5",
      "1..3.4",
      "1.2.3.",
      "1.2.3.-4",
      "+1.2.3.4",
      " 1.2.3.4",
      "1.2.3.4 ",
      "0x1.2.3.4",
      "1.2.3.4/24",
      "",
    ]) {
      assert.equal(parseIp(text), undefined, JSON.stringify(text));
    }
  });

  it("reads IPv6 in full, compressed and with an embedded IPv4 address", () => {
    const cases: [string, Uint8Array][] = [
      ["::", v6()],
      ["::1", v6(0, 0, 0, 0, 0, 0, 0, 1)],
      ["1::", v6(1)],
      ["2001:db8::1", v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)],
      ["2001:DB8:0:0:1:0:0:1", v6(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1)],
      ["1:2:3:4:5:6:7:8", v6(1, 2, 3, 4, 5, 6, 7, 8)],
      ["0001:0002::0008", v6(1, 2, 0, 0, 0, 0, 0, 8)],
      ["1:2:3:4:5:6:7::", v6(1, 2, 3, 4, 5, 6, 7, 0)],
      ["::2:3:4:5:6:7:8", v6(0, 2, 3, 4, 5, 6, 7, 8)],
      ["::ffff:1.2.3.4", v6(0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304)],
      ["::1.2.3.4", v6(0, 0, 0, 0, 0, 0, 0x0102, 0x0304)],
      ["1:2:3:4:5:6:1.2.3.4", v6(1, 2, 3, 4, 5, 6, 0x0102, 0x0304)],
      ["fe80::1", v6(0xfe80, 0, 0, 0, 0, 0, 0, 1)],
    ];
    for (const [text, bytes] of cases) assert.deepEqual(parseIp(text), { family: AF_INET6, bytes }, text);
  });

  it("refuses IPv6 with zones, brackets, two '::', too many or too few groups, long groups or a bad IPv4 tail", () => {
    for (const text of [
      "fe80::1%eth0",
      "fe80::1%1",
      "[::1]",
      ":::",
      "1:::2",
      "1::2::3",
      ":1::",
      "::1:",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7:8::",
      "::1:2:3:4:5:6:7:8",
      "12345::",
      "00001::",
      "g::",
      "::ffff:01.2.3.4",
      "::ffff:1.2.3",
      "::ffff:256.2.3.4",
      "1.2.3.4::",
      "::1.2.3.4:5",
      "1:2:3:4:5:6:7:1.2.3.4",
      "::/64",
      ":: ",
      `${"0:".repeat(7)}${"0".repeat(40)}`,
    ]) {
      assert.equal(parseIp(text), undefined, JSON.stringify(text));
    }
  });
});

describe("parsePrefix() and parsePrefixLength()", () => {
  it("takes lengths 0 to 32 for IPv4 and 0 to 128 for IPv6, a bare address as its full length", () => {
    assert.equal(parsePrefix("0.0.0.0/0")?.length, 0);
    assert.equal(parsePrefix("10.1.0.2/32")?.length, 32);
    assert.equal(parsePrefix("10.1.0.2")?.length, 32);
    assert.deepEqual(parsePrefix("10.1.0.2/24"), {
      family: AF_INET,
      bytes: Uint8Array.of(10, 1, 0, 2),
      length: 24,
    });
    assert.equal(parsePrefix("::/0")?.length, 0);
    assert.equal(parsePrefix("::1/128")?.length, 128);
    assert.equal(parsePrefix("2001:db8::1")?.length, 128);
    assert.equal(parsePrefix("::ffff:1.2.3.4/96")?.length, 96);
  });

  it("refuses lengths past the family's bits, with leading zeros, signs or blanks, and zones", () => {
    for (const text of [
      "10.0.0.0/33",
      "10.0.0.0/128",
      "::/129",
      "::/1000",
      "10.0.0.0/08",
      "10.0.0.0/00",
      "10.0.0.0/-1",
      "10.0.0.0/+8",
      "10.0.0.0/ 8",
      "10.0.0.0/",
      "10.0.0.0/8/8",
      "/8",
      "fe80::1%eth0/64",
      "10.0.0.0/0x8",
    ]) {
      assert.equal(parsePrefix(text), undefined, JSON.stringify(text));
    }
    assert.equal(parsePrefixLength("32", AF_INET), 32);
    assert.equal(parsePrefixLength("33", AF_INET), undefined);
    assert.equal(parsePrefixLength("128", AF_INET6), 128);
    assert.equal(parsePrefixLength("129", AF_INET6), undefined);
    assert.equal(parsePrefixLength("", AF_INET6), undefined);
  });

  it("clears the host bits of a prefix", () => {
    const network = (text: string) => {
      const prefix = parsePrefix(text);
      return prefix && formatIp(networkOf(prefix));
    };
    assert.equal(network("10.1.2.3/0"), "0.0.0.0");
    assert.equal(network("10.1.2.3/20"), "10.1.0.0");
    assert.equal(network("10.1.2.3/32"), "10.1.2.3");
    assert.equal(network("2001:db8:ffff::1/33"), "2001:db8:8000::");
    assert.equal(network("2001:db8::1/128"), "2001:db8::1");
  });
});

describe("formatIp()", () => {
  it("writes RFC 5952 text: lowercase, the longest zero run as '::', the first of equal runs, never one group", () => {
    const cases: [Uint8Array, string][] = [
      [v6(), "::"],
      [v6(0, 0, 0, 0, 0, 0, 0, 1), "::1"],
      [v6(1), "1::"],
      [v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), "2001:db8::1"],
      [v6(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1), "2001:db8::1:0:0:1"],
      [v6(0x2001, 0, 0, 1, 0, 0, 0, 1), "2001:0:0:1::1"],
      [v6(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1), "2001:db8:0:1:1:1:1:1"],
      [v6(1, 0, 1, 0, 1, 0, 1, 0), "1:0:1:0:1:0:1:0"],
      [v6(0xabcd, 0xef01, 0, 0, 0, 0, 0, 0), "abcd:ef01::"],
      [v6(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, 1), "fe80::ff:fe00:1"],
    ];
    for (const [bytes, text] of cases) assert.equal(formatIp(bytes), text);
  });

  it("writes IPv4-mapped and IPv4-compatible addresses with a dotted tail, as inet_ntop does", () => {
    assert.equal(formatIp(v6(0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304)), "::ffff:1.2.3.4");
    assert.equal(formatIp(v6(0, 0, 0, 0, 0, 0xffff, 0, 0)), "::ffff:0.0.0.0");
    assert.equal(formatIp(v6(0, 0, 0, 0, 0, 0, 0x0102, 0x0304)), "::1.2.3.4");
    assert.equal(formatIp(v6(0, 0, 0, 0, 0, 0xfffe, 0x0102, 0x0304)), "::fffe:102:304");
  });

  it("writes IPv4 as a dotted quad", () => {
    assert.equal(formatIp(Uint8Array.of(0, 0, 0, 0)), "0.0.0.0");
    assert.equal(formatIp(Uint8Array.of(192, 0, 2, 255)), "192.0.2.255");
  });

  it("agrees with the URL standard's IPv6 serialiser on random addresses, and parses back", () => {
    const rng = createPrng(5952);
    for (let i = 0; i < 5000; i++) {
      const group = () => rng.pick([0, 0, 0, 0xffff, rng.int(16), rng.int(0x10000)]);
      const bytes = v6(...Array.from({ length: 8 }, group));
      const text = formatIp(bytes);
      assert.deepEqual(parseIp(text)?.bytes, bytes, text);
      if (text.includes(".")) continue;
      assert.equal(`[${text}]`, new URL(`http://[${text}]/`).hostname, text);
    }
  });
});

describe("MACs and helpers", () => {
  it("parses six hex pairs in either case and writes them lowercase", () => {
    assert.deepEqual(parseMac("02:00:00:00:0B:01"), Uint8Array.of(2, 0, 0, 0, 0xb, 1));
    assert.equal(formatMac(Uint8Array.of(2, 0, 0, 0, 0xb, 1)), "02:00:00:00:0b:01");
    assert.equal(formatMac(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff)), "ff:ff:ff:ff:ff:ff");
  });

  it("writes link-layer addresses of any length", () => {
    assert.equal(formatMac(new Uint8Array(0)), "");
    assert.equal(formatMac(Uint8Array.of(1, 2, 3, 4)), "01:02:03:04");
  });

  it("refuses MACs of the wrong length, other separators, single digits or blanks", () => {
    for (const text of [
      "02:00:00:00:00",
      "02:00:00:00:00:00:00",
      "02-00-00-00-00-01",
      "0200.0000.0001",
      "2:0:0:0:0:1",
      "02:00:00:00:00:0g",
      " 02:00:00:00:00:01",
      "02:00:00:00:00:01\n",
      "",
    ]) {
      assert.equal(parseMac(text), undefined, JSON.stringify(text));
    }
  });

  it("tells families by length and compares bytes", () => {
    assert.equal(familyOf(new Uint8Array(4)), AF_INET);
    assert.equal(familyOf(new Uint8Array(16)), AF_INET6);
    assert.ok(sameBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2)));
    assert.ok(!sameBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 3)));
    assert.ok(!sameBytes(Uint8Array.of(1), undefined));
    assert.ok(sameBytes(undefined, undefined));
  });
});
