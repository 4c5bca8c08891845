import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatIp, parseIp, parseMac } from "../ip-address.js";
import {
  type ChangesFixture,
  fixture,
  hex,
  type LinksFixture,
  linkNames,
  type NeighboursFixture,
  payloadsOf,
} from "./fixtures.test-util.js";
import { ipNeighShows, neighbourAsIp } from "./ip-json.test-util.js";
import {
  decodeNeighbour,
  type Neighbour,
  NUD_NOARP,
  NUD_PERMANENT,
  NUD_REACHABLE,
  ndmsg,
  neighbourBody,
  RTM_GETNEIGH,
  RTM_NEWNEIGH,
} from "./neighbour-message.js";
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

const neighbours = fixture<NeighboursFixture>("neighbours");
const names = linkNames(fixture<LinksFixture>("links").dump.ip);
const changes = fixture<ChangesFixture>("changes");
const decoded = payloadsOf(neighbours.dump, RTM_NEWNEIGH).map(decodeNeighbour);
const find = (dst: string) => decoded.find((n) => formatIp(n.dst) === dst);
const bytes = (text: string) => parseIp(text)?.bytes ?? new Uint8Array();
const mac = (text: string) => parseMac(text) ?? new Uint8Array();

describe("decodeNeighbour() on recorded kernel bytes", () => {
  it("decodes a dump of both families; those `ip neigh` lists are as `ip -j neigh` showed them", () => {
    assert.deepEqual(
      decoded.filter(ipNeighShows).map((n) => neighbourAsIp(n, names)),
      neighbours.dump.ip,
    );
    assert.ok(
      decoded.some((n) => n.state === NUD_NOARP),
      "the dump also holds entries ip hides",
    );
  });

  it("reads dst, lladdr, link and state of permanent and reachable IPv4 and IPv6 entries", () => {
    const veth0 = [...names].find(([, n]) => n === "veth0")?.[0];
    const cases: [string, string, number][] = [
      ["10.1.0.50", "02:00:00:00:00:50", NUD_PERMANENT],
      ["10.1.0.51", "02:00:00:00:00:51", NUD_REACHABLE],
      ["2001:db8:1::50", "02:00:00:00:00:60", NUD_PERMANENT],
      ["2001:db8:1::51", "02:00:00:00:00:61", NUD_REACHABLE],
    ];
    for (const [dst, lladdr, state] of cases) {
      const neighbour = find(dst);
      assert.equal(neighbour?.family, dst.includes(":") ? 10 : 2);
      assert.equal(neighbour?.index, veth0);
      assert.deepEqual(neighbour?.lladdr, mac(lladdr));
      assert.equal(neighbour?.state, state);
    }
  });

  it("shows the neighbour berth's own RTM_NEWNEIGH made", () => {
    assert.deepEqual(find("10.3.0.9")?.lladdr, mac("02:00:00:00:03:09"));
    assert.equal(find("10.3.0.9")?.state, NUD_PERMANENT);
  });

  it("refuses a short ndmsg, an unknown family and a destination of the wrong size", () => {
    assert.throws(() => decodeNeighbour(Buffer.alloc(11)), NetlinkDecodeError);
    assert.throws(() => decodeNeighbour(ndmsg(7, 1)), NetlinkDecodeError);
    assert.throws(() => decodeNeighbour(ndmsg(2, 1)), NetlinkDecodeError);
    const v6Short = Buffer.concat([ndmsg(10, 1), hex("0800 0100 0a000001")]);
    assert.throws(() => decodeNeighbour(v6Short), NetlinkDecodeError);
  });
});

describe("neighbour requests, byte for byte", () => {
  it("encodes RTM_NEWNEIGH of a permanent IPv4 entry as hand-computed (and the kernel accepted)", () => {
    const neighbour: Neighbour = {
      ...{ family: 2, index: 8, state: NUD_PERMANENT, flags: 0, type: 0 },
      ...{ dst: bytes("10.3.0.9"), lladdr: mac("02:00:00:00:03:09") },
    };
    const { fixed, attributes } = neighbourBody(neighbour);
    const flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
    const expected = hex(`
      3000 0000  1c00  0505  ee03 0000  0000 0000
      02 00 0000  0800 0000  8000 00 00
      0800 0100  0a03 0009
      0a00 0200  0200 0000 0309 0000`);
    assert.deepEqual(encodeMessage({ type: RTM_NEWNEIGH, flags, seq: 1006 }, fixed, attributes), expected);
    const recorded = changes.accepted.find((c) => c.what.startsWith("replace neighbour"));
    assert.deepEqual(expected, hex(recorded?.request ?? ""));
  });

  it("encodes the dump of both families as recorded", () => {
    const seq = splitMessages(hex(neighbours.dump.request))[0]?.seq ?? 0;
    const request = encodeMessage(
      { type: RTM_GETNEIGH, flags: NLM_F_REQUEST | NLM_F_DUMP, seq },
      ndmsg(0, 0),
    );
    assert.deepEqual(request, hex(neighbours.dump.request));
  });

  it("round-trips IPv4 and IPv6 entries, with and without a link-layer address", () => {
    const cases: Neighbour[] = [
      {
        family: 2,
        index: 3,
        state: NUD_PERMANENT,
        flags: 0,
        type: 0,
        dst: bytes("10.0.0.9"),
        lladdr: mac("aa:bb:cc:dd:ee:ff"),
      },
      {
        family: 10,
        index: 4,
        state: NUD_REACHABLE,
        flags: 0x80,
        type: 1,
        dst: bytes("fe80::9"),
        lladdr: mac("02:00:00:00:00:09"),
      },
      { family: 10, index: 5, state: NUD_NOARP, flags: 0, type: 0, dst: bytes("ff02::1") },
    ];
    for (const neighbour of cases) {
      const { fixed, attributes } = neighbourBody(neighbour);
      const [message] = splitMessages(
        encodeMessage({ type: RTM_NEWNEIGH, flags: 0, seq: 1 }, fixed, attributes),
      );
      assert.deepEqual(message && decodeNeighbour(message.payload), neighbour);
    }
  });
});
