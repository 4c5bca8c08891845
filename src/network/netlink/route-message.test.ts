import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatIp, parseIp } from "../ip-address.js";
import {
  type ChangesFixture,
  fixture,
  hex,
  type LinksFixture,
  linkNames,
  payloadsOf,
  type RoutesFixture,
} from "./fixtures.test-util.js";
import { routeAsIp } from "./ip-json.test-util.js";
import {
  encodeMessage,
  NetlinkDecodeError,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  NLM_F_REPLACE,
  NLM_F_REQUEST,
  splitMessages,
} from "./netlink-message.js";
import {
  decodeRoute,
  mainTableDump,
  type Route,
  RT_TABLE_MAIN,
  RTM_GETROUTE,
  RTM_NEWROUTE,
  RTN_UNICAST,
  RTNH_F_ONLINK,
  RTPROT_BOOT,
  RTPROT_KERNEL,
  routeBody,
  rtmsg,
} from "./route-message.js";

const routes = fixture<RoutesFixture>("routes");
const names = linkNames(fixture<LinksFixture>("links").dump.ip);
const changes = fixture<ChangesFixture>("changes");
const decoded = payloadsOf(routes.dump, RTM_NEWROUTE).map(decodeRoute);
const bytes = (text: string) => parseIp(text)?.bytes ?? new Uint8Array();
const find = (family: number, dst: string | undefined, length: number) =>
  decoded.find(
    (r) => r.family === family && r.dstLength === length && (r.dst ? formatIp(r.dst) : undefined) === dst,
  );
const indexOf = (name: string) => [...names].find(([, n]) => n === name)?.[0];

const base = {
  srcLength: 0,
  tos: 0,
  table: RT_TABLE_MAIN,
  protocol: RTPROT_BOOT,
  scope: 0,
  type: RTN_UNICAST,
};

describe("decodeRoute() on recorded kernel bytes", () => {
  it("decodes a main-table dump of both families as `ip -j [-6] route show table main` showed it", () => {
    const v4 = decoded.filter((r) => r.family === 2);
    const v6 = decoded.filter((r) => r.family === 10);
    assert.equal(v4.length + v6.length, decoded.length);
    assert.deepEqual(
      v4.map((r) => routeAsIp(r, names)),
      routes.dump.ip.inet,
    );
    assert.deepEqual(
      v6.map((r) => routeAsIp(r, names)),
      routes.dump.ip.inet6,
    );
    assert.ok(decoded.every((r) => r.table === RT_TABLE_MAIN));
  });

  it("reads gateway, oif, prefsrc, scope, protocol, metric, mtu and onlink of IPv4 routes", () => {
    const veth0 = indexOf("veth0");
    assert.deepEqual(find(2, undefined, 0)?.gateway, bytes("10.1.0.1"));
    assert.equal(find(2, undefined, 0)?.oif, veth0);
    const connected = find(2, "10.1.0.0", 24);
    assert.equal(connected?.protocol, RTPROT_KERNEL);
    assert.equal(connected?.scope, 253);
    assert.deepEqual(connected?.prefsrc, bytes("10.1.0.2"));
    assert.equal(connected?.gateway, undefined);
    assert.equal(find(2, "10.9.0.0", 16)?.mtu, 1300);
    assert.equal(find(2, "10.6.0.0", 16)?.priority, 100);
    assert.equal((find(2, "10.8.0.0", 16)?.flags ?? 0) & RTNH_F_ONLINK, RTNH_F_ONLINK);
    assert.deepEqual(find(2, "10.7.0.0", 16)?.prefsrc, bytes("10.1.0.2"));
    assert.equal(find(2, "10.5.0.0", 16)?.protocol, 4);
  });

  it("reads IPv6 routes via a link-local gateway, source-specific, with an mtu, with their preference", () => {
    assert.deepEqual(find(10, "2001:db8:9::", 48)?.gateway, bytes("fe80::1"));
    const sourced = find(10, "2001:db8:7::", 48);
    assert.deepEqual(sourced?.src, bytes("2001:db8:1::"));
    assert.equal(sourced?.srcLength, 64);
    assert.equal(find(10, undefined, 0)?.mtu, 1280);
    assert.equal(find(10, undefined, 0)?.pref, 0);
    assert.equal(find(10, undefined, 0)?.priority, 1024);
  });

  it("shows the route berth's own RTM_NEWROUTE made, its RTA_METRICS included", () => {
    const route = find(2, "10.30.0.0", 16);
    assert.deepEqual(route?.gateway, bytes("10.3.0.1"));
    assert.equal(route?.oif, indexOf("veth2"));
    assert.equal(route?.mtu, 1400);
  });

  it("refuses a short rtmsg, an unknown family and addresses of the wrong size", () => {
    assert.throws(() => decodeRoute(Buffer.alloc(11)), NetlinkDecodeError);
    assert.throws(() => decodeRoute(rtmsg({ family: 7 })), NetlinkDecodeError);
    const v4With16 = Buffer.concat([rtmsg({ family: 2 }), hex("1400 0500"), Buffer.alloc(16)]);
    assert.throws(() => decodeRoute(v4With16), NetlinkDecodeError);
    const shortMtu = Buffer.concat([rtmsg({ family: 2 }), hex("0a00 0880  0600 0200 7805 0000")]);
    assert.throws(() => decodeRoute(shortMtu), NetlinkDecodeError);
  });
});

describe("route requests, byte for byte", () => {
  it("encodes RTM_NEWROUTE with a nested RTA_METRICS as hand-computed (and the kernel accepted)", () => {
    const route: Route = {
      ...{ ...base, family: 2, dstLength: 16, flags: 0, oif: 8, mtu: 1400 },
      ...{ dst: bytes("10.30.0.0"), gateway: bytes("10.3.0.1") },
    };
    const { fixed, attributes } = routeBody(route);
    const flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
    const expected = hex(`
      4800 0000  1800  0505  ed03 0000  0000 0000
      02 10 00 00  fe 03 00 01  0000 0000
      0800 0f00  fe00 0000
      0800 0100  0a1e 0000
      0800 0500  0a03 0001
      0800 0400  0800 0000
      0c00 0880    0800 0200  7805 0000`);
    assert.deepEqual(encodeMessage({ type: RTM_NEWROUTE, flags, seq: 1005 }, fixed, attributes), expected);
    const recorded = changes.accepted.find((c) => c.what.startsWith("replace 10.30.0.0/16"));
    assert.deepEqual(expected, hex(recorded?.request ?? ""));
  });

  it("encodes a source-specific IPv6 route with prefsrc, priority and a one-byte RTA_PREF padded", () => {
    const route: Route = {
      ...{
        ...base,
        family: 10,
        dstLength: 48,
        srcLength: 64,
        flags: RTNH_F_ONLINK,
        oif: 2,
        priority: 1024,
        pref: 1,
      },
      ...{ dst: bytes("2001:db8:7::"), src: bytes("2001:db8:1::"), prefsrc: bytes("2001:db8:1::2") },
    };
    const { fixed, attributes } = routeBody(route);
    const expected = hex(`
      0a 30 40 00  fe 03 00 01  0400 0000
      0800 0f00  fe00 0000
      1400 0100  2001 0db8 0007 0000 0000 0000 0000 0000
      1400 0200  2001 0db8 0001 0000 0000 0000 0000 0000
      1400 0700  2001 0db8 0001 0000 0000 0000 0000 0002
      0800 0400  0200 0000
      0800 0600  0004 0000
      0500 1400  01 000000`);
    assert.deepEqual(
      encodeMessage({ type: RTM_NEWROUTE, flags: 0, seq: 0 }, fixed, attributes).subarray(16),
      expected,
    );
  });

  it("leaves out RTA_DST of a default route and RTA_METRICS without an mtu", () => {
    const { attributes } = routeBody({ ...base, family: 2, dstLength: 0, flags: 0, dst: bytes("0.0.0.0") });
    assert.deepEqual(
      attributes.map((a) => a.type),
      [15],
    );
  });

  it("encodes the refused route (no route to its gateway) as recorded", () => {
    const route: Route = {
      ...base,
      family: 2,
      dstLength: 16,
      flags: 0,
      dst: bytes("10.40.0.0"),
      gateway: bytes("192.0.2.1"),
    };
    const { fixed, attributes } = routeBody(route);
    const recorded = changes.refused.find((c) => c.what.startsWith("add 10.40.0.0/16"));
    const seq = splitMessages(hex(recorded?.request ?? ""))[0]?.seq ?? 0;
    const flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
    assert.deepEqual(
      encodeMessage({ type: RTM_NEWROUTE, flags, seq }, fixed, attributes),
      hex(recorded?.request ?? ""),
    );
  });

  it("encodes the main-table dump of both families as recorded", () => {
    const { fixed, attributes } = mainTableDump();
    const seq = splitMessages(hex(routes.dump.request))[0]?.seq ?? 0;
    const request = encodeMessage(
      { type: RTM_GETROUTE, flags: NLM_F_REQUEST | NLM_F_DUMP, seq },
      fixed,
      attributes,
    );
    assert.deepEqual(request, hex(routes.dump.request));
    assert.deepEqual(request.subarray(16), hex("00 00 00 00  fe 00 00 00  0000 0000  0800 0f00  fe00 0000"));
  });

  it("round-trips IPv4 and IPv6 routes, a table past 255 included", () => {
    const cases: Route[] = [
      { ...base, family: 2, dstLength: 0, flags: 0, gateway: bytes("10.0.0.1"), oif: 3, priority: 5 },
      { ...base, family: 2, dstLength: 24, flags: RTNH_F_ONLINK, dst: bytes("10.1.2.0"), oif: 3, mtu: 9000 },
      {
        ...base,
        family: 2,
        dstLength: 32,
        flags: 0,
        scope: 253,
        dst: bytes("10.1.2.3"),
        prefsrc: bytes("10.1.2.1"),
      },
      {
        ...base,
        family: 10,
        dstLength: 64,
        flags: 0,
        table: 1000,
        dst: bytes("2001:db8::"),
        oif: 4,
        pref: 3,
      },
      {
        ...{ ...base, family: 10, dstLength: 48, srcLength: 56, flags: 0, priority: 1024 },
        ...{ dst: bytes("2001:db8:7::"), src: bytes("2001:db8:1::"), gateway: bytes("fe80::1"), oif: 2 },
      },
    ];
    for (const route of cases) {
      const { fixed, attributes } = routeBody(route);
      const [message] = splitMessages(
        encodeMessage({ type: RTM_NEWROUTE, flags: 0, seq: 1 }, fixed, attributes),
      );
      assert.deepEqual(message && decodeRoute(message.payload), route);
    }
  });
});
