import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseMac } from "../ip-address.js";
import {
  type ChangesFixture,
  fixture,
  hex,
  type LinksFixture,
  messagesOf,
  payloadsOf,
} from "./fixtures.test-util.js";
import { ipLinkFields, linkAsIp } from "./ip-json.test-util.js";
import {
  decodeLink,
  IFF_NOARP,
  IFF_UP,
  ifinfomsg,
  linkChangeBody,
  RTM_GETLINK,
  RTM_NEWLINK,
  RTM_SETLINK,
  withoutStats,
} from "./link-message.js";
import {
  encodeMessage,
  NetlinkDecodeError,
  NetlinkError,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  splitMessages,
  statusOf,
} from "./netlink-message.js";

const links = fixture<LinksFixture>("links");
const changes = fixture<ChangesFixture>("changes");
const decoded = payloadsOf(links.dump, RTM_NEWLINK).map(decodeLink);
const byName = (name: string) => decoded.find((l) => l.name === name);
const seqOf = (request: string) => splitMessages(hex(request))[0]?.seq ?? -1;

describe("decodeLink() on recorded kernel bytes", () => {
  it("decodes every link of a dump as `ip -j -d link` showed it at the same moment", () => {
    assert.equal(decoded.length, links.dump.ip.length);
    assert.deepEqual(decoded.map(linkAsIp), links.dump.ip.map(ipLinkFields));
  });

  it("reads index, name, MTU, MAC, flags, operstate and kind of a veth, a NOARP veth and a bridge", () => {
    const veth0 = byName("veth0");
    assert.equal(veth0?.mtu, 1400);
    assert.deepEqual(veth0?.address, parseMac("02:00:00:00:00:01"));
    assert.equal(veth0?.kind, "veth");
    assert.equal(veth0?.operState, "UP");
    assert.equal((veth0?.flags ?? 0) & IFF_UP, IFF_UP);
    assert.equal((veth0?.flags ?? 0) & IFF_NOARP, 0);
    assert.equal((byName("veth1")?.flags ?? 0) & IFF_NOARP, IFF_NOARP);
    assert.equal(byName("br0")?.kind, "bridge");
    assert.equal(byName("lo")?.linkType, 772);
    assert.equal(byName("lo")?.kind, undefined);
    assert.equal(byName("veth0p")?.linkType, 1);
  });

  it("shows the rename, MTU and up that berth's own RTM_SETLINKs made", () => {
    assert.equal(byName("nlrename0"), undefined);
    const veth2 = byName("veth2");
    assert.equal(veth2?.mtu, 1450);
    assert.equal((veth2?.flags ?? 0) & IFF_UP, IFF_UP);
  });

  it("ends the dump with NLMSG_DONE carrying status 0", () => {
    const last = messagesOf(links.dump).at(-1);
    assert.equal(last?.type, NLMSG_DONE);
    assert.equal(last && statusOf(last), undefined);
  });

  it("answers a get of one link with that link, then an ack", () => {
    const [reply, ack, ...rest] = messagesOf(links.get.veth0);
    assert.equal(rest.length, 0);
    assert.equal(reply?.type, RTM_NEWLINK);
    const veth0 = byName("veth0");
    assert.ok(reply && veth0);
    assert.deepEqual(linkAsIp(decodeLink(reply.payload)), linkAsIp(veth0));
    assert.equal(decodeLink(reply.payload).index, links.get.veth0.index);
    assert.equal(ack?.type, NLMSG_ERROR);
    assert.equal(ack && statusOf(ack), undefined);
  });

  it("answers a get of a link that is not there with ENODEV and no text of the kernel's", () => {
    const [error] = messagesOf(links.get.missing);
    const status = error && statusOf(error);
    assert.ok(status instanceof NetlinkError);
    assert.equal(status.errno, "ENODEV");
    assert.equal(status.errnoNumber, 19);
    assert.equal(status.kernelMessage, undefined);
  });

  it("refuses an ifinfomsg cut short, a link without a name and a short IFLA_MTU", () => {
    assert.throws(() => decodeLink(Buffer.alloc(15)), NetlinkDecodeError);
    assert.throws(() => decodeLink(ifinfomsg(1)), NetlinkDecodeError);
    const shortMtu = Buffer.concat([ifinfomsg(1), hex("0800 0300 6c6f0000"), hex("0600 0400 dc05 0000")]);
    assert.throws(() => decodeLink(shortMtu), NetlinkDecodeError);
  });
});

describe("link requests, byte for byte", () => {
  it("encodes a dump without counters as hand-computed, and as recorded", () => {
    const dump = (seq: number) =>
      encodeMessage(
        { type: RTM_GETLINK, flags: NLM_F_REQUEST | NLM_F_DUMP, seq },
        ifinfomsg(0),
        withoutStats,
      );
    assert.deepEqual(
      dump(7),
      hex(`2800 0000  1200 0103  0700 0000  0000 0000
           00 00 0000  0000 0000  0000 0000  0000 0000
           0800 1d00  0800 0000`),
    );
    assert.deepEqual(dump(seqOf(links.dump.request)), hex(links.dump.request));
  });

  it("encodes RTM_SETLINK rename and MTU as hand-computed (and the kernel accepted)", () => {
    const { fixed, attributes } = linkChangeBody({ index: 8, name: "veth2", mtu: 1450 });
    const request = encodeMessage(
      { type: RTM_SETLINK, flags: NLM_F_REQUEST | NLM_F_ACK, seq: 1001 },
      fixed,
      attributes,
    );
    const expected = hex(`
      3400 0000  1300  0500  e903 0000  0000 0000
      00 00 0000  0800 0000  0000 0000  0000 0000
      0a00 0300  7665 7468 3200 0000
      0800 0400  aa05 0000`);
    assert.deepEqual(request, expected);
    const recorded = changes.accepted.find((c) => c.what.startsWith("rename"));
    assert.deepEqual(request, hex(recorded?.request ?? ""));
  });

  it("encodes flags with their change mask", () => {
    const { fixed, attributes } = linkChangeBody({ index: 8, flags: IFF_UP, flagMask: IFF_UP });
    assert.deepEqual(attributes, []);
    assert.deepEqual(fixed, hex("00 00 0000  0800 0000  0100 0000  0100 0000"));
    const recorded = changes.accepted.find((c) => c.what === "set veth2 up");
    const request = encodeMessage({ type: RTM_SETLINK, flags: NLM_F_REQUEST | NLM_F_ACK, seq: 1002 }, fixed);
    assert.deepEqual(request, hex(recorded?.request ?? ""));
  });

  it("round-trips a change through decodeLink", () => {
    const change = {
      index: 42,
      name: "eth-long-name0",
      mtu: 9000,
      address: Uint8Array.from(parseMac("0a:1b:2c:3d:4e:5f") ?? []),
      flags: IFF_UP | IFF_NOARP,
      flagMask: IFF_UP | IFF_NOARP,
    };
    const { fixed, attributes } = linkChangeBody(change);
    const [message] = splitMessages(
      encodeMessage({ type: RTM_NEWLINK, flags: 0, seq: 1 }, fixed, attributes),
    );
    assert.deepEqual(message && decodeLink(message.payload), {
      index: 42,
      linkType: 0,
      flags: IFF_UP | IFF_NOARP,
      name: "eth-long-name0",
      mtu: 9000,
      address: change.address,
      operState: "UNKNOWN",
    });
  });
});
