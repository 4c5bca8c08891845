import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "../errors.js";
import { AF_INET, AF_INET6, parseIp } from "./ip-address.js";
import { planNeighbour, planNeighbours } from "./neighbours.js";
import { NUD_PERMANENT, NUD_REACHABLE } from "./netlink/neighbour-message.js";
import { type NeighbourText, WIRE_V4, WIRE_V6 } from "./network-types.js";

const links = new Map([["eth0", 2]]);
const linkIndex = (name: string) => links.get(name);

const entry = (address: string, fields: Partial<NeighbourText> = {}): NeighbourText => ({
  toIpAddress: { family: address.includes(":") ? WIRE_V6 : WIRE_V4, address, mask: "" },
  device: "eth0",
  lladdr: "02:00:00:00:00:05",
  state: 0,
  flags: 0,
  ...fields,
});

const refused = (code: Code, pattern: RegExp) => (e: unknown) =>
  (e as { code?: unknown }).code === code && pattern.test((e as Error).message);
const invalid = (pattern: RegExp) => refused(Code.INVALID_ARGUMENT, pattern);

describe("planNeighbour()", () => {
  it("makes state 0 (what the Go host sends) a permanent entry on the named link", () => {
    assert.deepEqual(planNeighbour(entry("10.0.0.5"), linkIndex), {
      family: AF_INET,
      index: 2,
      state: NUD_PERMANENT,
      flags: 0,
      type: 0,
      dst: parseIp("10.0.0.5")?.bytes,
      lladdr: Uint8Array.from([2, 0, 0, 0, 0, 5]),
    });
  });

  it("keeps any other state and the flags as given, IPv6 as well", () => {
    const n = planNeighbour(entry("2001:db8::5", { state: NUD_REACHABLE, flags: 0x80 }), linkIndex);
    assert.equal(n.family, AF_INET6);
    assert.equal(n.state, NUD_REACHABLE);
    assert.equal(n.flags, 0x80);
  });

  it("takes the family from the address, not the wire's field", () => {
    const n = planNeighbour(
      { ...entry("2001:db8::5"), toIpAddress: { family: WIRE_V4, address: "2001:db8::5", mask: "" } },
      linkIndex,
    );
    assert.equal(n.family, AF_INET6);
  });

  it("leaves the link-layer address out when none is given, and takes one in any case", () => {
    assert.equal("lladdr" in planNeighbour(entry("10.0.0.5", { lladdr: "" }), linkIndex), false);
    assert.deepEqual(
      planNeighbour(entry("10.0.0.5", { lladdr: "0A:bB:00:00:00:01" }), linkIndex).lladdr,
      Uint8Array.from([0x0a, 0xbb, 0, 0, 0, 1]),
    );
  });

  it("refuses an entry without an address, with a bad address, device or link-layer address, quoting it", () => {
    const cases: [NeighbourText, RegExp][] = [
      [
        { ...entry("10.0.0.5"), toIpAddress: undefined },
        /neighbour \(no address\) dev eth0 has no IP address/,
      ],
      [entry(""), /has no IP address/],
      [entry("10.0.0.256"), /neighbour 10\.0\.0\.256 dev eth0: "10\.0\.0\.256" is not an IP address/],
      [entry("10.0.0.0/24"), /"10\.0\.0\.0\/24" is not an IP address/],
      [entry("10.0.0.5", { device: "" }), /neighbour 10\.0\.0\.5 dev \(none\) names no device/],
      [
        entry("10.0.0.5", { lladdr: "02:00:00:00:00:zz" }),
        /lladdr "02:00:00:00:00:zz" is not a link-layer address/,
      ],
      [entry("10.0.0.5", { lladdr: "020000000005" }), /lladdr "020000000005"/],
      [entry("10.0.0.5", { lladdr: "02:00:00:00:00:05:" }), /lladdr "02:00:00:00:00:05:"/],
      [entry("10.0.0.5", { lladdr: Array(33).fill("02").join(":") }), /is not a link-layer address/],
      [entry("10.0.0.5", { state: 0x10000 }), /state 65536 is not a NUD_\* value/],
      [entry("10.0.0.5", { state: -1 }), /state -1/],
      [entry("10.0.0.5", { flags: 0x100 }), /flags 256 are not NTF_\* bits/],
    ];
    for (const [text, pattern] of cases)
      assert.throws(() => planNeighbour(text, linkIndex), invalid(pattern));
    assert.throws(
      () => planNeighbour(entry("10.0.0.5", { device: "eth9" }), linkIndex),
      refused(Code.NOT_FOUND, /^Link not found \(Name: eth9\)$/),
    );
  });
});

describe("planNeighbours()", () => {
  it("plans every entry, or refuses the request at its first bad one", () => {
    assert.equal(planNeighbours([entry("10.0.0.5"), entry("2001:db8::5")], linkIndex).length, 2);
    assert.throws(() => planNeighbours([entry("10.0.0.5"), entry("bad")], linkIndex), invalid(/"bad"/));
  });

  it("refuses more than 4096 entries", () => {
    const many = Array.from({ length: 4097 }, () => entry("10.0.0.5"));
    assert.throws(() => planNeighbours(many, linkIndex), invalid(/4097 neighbours, more than 4096/));
  });
});
