import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "../../errors.js";
import {
  type ChangesFixture,
  datagramsOf,
  fixture,
  hex,
  type LinksFixture,
  messagesOf,
} from "./fixtures.test-util.js";
import {
  align4,
  cString,
  encodeMessage,
  NetlinkDecodeError,
  NetlinkError,
  type NetlinkMessage,
  NLM_F_MULTI,
  NLMSG_DONE,
  NLMSG_ERROR,
  parseAttributes,
  readString,
  readU8,
  readU32,
  splitMessages,
  statusOf,
  u32,
} from "./netlink-message.js";

const changes = fixture<ChangesFixture>("changes");
const links = fixture<LinksFixture>("links");
const message = (type: number, flags: number, payload: Buffer): NetlinkMessage => ({
  type,
  flags,
  seq: 1,
  port: 0,
  payload,
});
const refusal = (prefix: string) => {
  const recorded = changes.refused.find((c) => c.what.startsWith(prefix));
  assert.ok(recorded, prefix);
  return recorded;
};

describe("splitMessages()", () => {
  it("splits a recorded multi-part dump into its messages, each a view of the datagram", () => {
    const [first] = datagramsOf(links.dump);
    assert.ok(first);
    const messages = splitMessages(first);
    assert.equal(messages.length, links.dump.ip.length);
    assert.ok(messages.every((m) => m.flags & NLM_F_MULTI && m.payload.buffer === first.buffer));
    const total = messages.reduce((n, m) => n + align4(16 + m.payload.length), 0);
    assert.equal(total, first.length);
  });

  it("reads the header's fields", () => {
    const [m] = splitMessages(hex("1400 0000  1800  0203  0700 0000  2a00 0000  0102 0304"));
    assert.deepEqual(m, { type: 24, flags: 0x302, seq: 7, port: 42, payload: hex("01020304") });
  });

  it("needs every message but the last padded to 4 bytes", () => {
    const datagram = hex(
      "1100 0000 0300 0000 0000 0000 0000 0000 ff  1100 0000 0300 0000 0000 0000 0000 0000 ee",
    );
    assert.throws(() => splitMessages(datagram), NetlinkDecodeError);
    const padded = hex(
      "1100 0000 0300 0000 0000 0000 0000 0000 ff000000  1100 0000 0300 0000 0000 0000 0000 0000 ee",
    );
    assert.deepEqual(
      splitMessages(padded).map((m) => m.payload),
      [hex("ff"), hex("ee")],
    );
  });

  it("answers nothing for an empty datagram", () => {
    assert.deepEqual(splitMessages(Buffer.alloc(0)), []);
  });

  it("refuses a header cut short, a length under a header's, and a length past the datagram", () => {
    for (const bytes of [
      hex("1000 0000 0300 0000"),
      hex("0f00 0000 0300 0000 0000 0000 0000 0000"),
      hex("0000 0000 0300 0000 0000 0000 0000 0000"),
      hex("1400 0000 0300 0000 0000 0000 0000 0000"),
      hex("ffff ffff 0300 0000 0000 0000 0000 0000"),
    ]) {
      assert.throws(() => splitMessages(bytes), NetlinkDecodeError, bytes.toString("hex"));
    }
  });
});

describe("encodeMessage() and attributes", () => {
  it("pads the fixed part and each attribute to 4 bytes, nests attributes, all by hand-computed bytes", () => {
    const encoded = encodeMessage({ type: 0x1234, flags: 0x0001, seq: 7 }, Uint8Array.of(0xaa), [
      { type: 1, value: Uint8Array.of(0x11) },
      {
        type: 0x8002,
        value: [
          { type: 3, value: Uint8Array.of(1, 2, 3, 4, 5) },
          { type: 4, value: new Uint8Array(0) },
        ],
      },
      { type: 5, value: [] },
    ]);
    const expected = hex(`
      3400 0000  3412  0100  0700 0000  0000 0000
      aa00 0000
      0500 0100  11 000000
      1400 0280    0900 0300  0102 0304 05 000000    0400 0400
      0400 0500`);
    assert.deepEqual(encoded, expected);
  });

  it("nests to any depth, lengths covering what they hold", () => {
    const inner = { type: 1, value: u32(0xdeadbeef) };
    const encoded = encodeMessage({ type: 1, flags: 0, seq: 0xffff_ffff }, new Uint8Array(0), [
      { type: 0x8001, value: [{ type: 0x8002, value: [inner] }] },
    ]);
    assert.deepEqual(
      encoded,
      hex("2000 0000 0100 0000 ffff ffff 0000 0000  1000 0180  0c00 0280  0800 0100 efbe adde"),
    );
    const outer = parseAttributes(encoded, 16).get(1);
    const middle = outer && parseAttributes(outer).get(2);
    assert.equal(middle && readU32(parseAttributes(middle).get(1), "inner"), 0xdeadbeef);
  });

  it("writes a sequence number modulo 2^32", () => {
    assert.equal(
      encodeMessage({ type: 1, flags: 0, seq: 2 ** 32 + 5 }, new Uint8Array(0)).readUInt32LE(8),
      5,
    );
  });

  it("writes strings NUL-terminated", () => {
    assert.deepEqual(cString("veth2"), hex("7665746832 00"));
    assert.equal(readString(cString("eth0")), "eth0");
    assert.equal(readString(hex("657468")), "eth");
    assert.equal(readString(hex("65 00 66")), "e");
  });
});

describe("parseAttributes()", () => {
  it("strips the nested and byte-order flags, keeps the first of a repeated type, skips trailing bytes", () => {
    const attributes = parseAttributes(
      hex("0500 0180 aa000000  0500 0140 bb000000  0500 0100 cc000000  ffff"),
    );
    assert.deepEqual([...attributes.keys()], [1]);
    assert.deepEqual(attributes.get(1), hex("aa"));
  });

  it("starts at an offset and takes an attribute of no value", () => {
    assert.deepEqual(parseAttributes(hex("ffffffff 0400 0900"), 4).get(9), Buffer.alloc(0));
  });

  it("refuses an attribute length under 4 or past the bytes", () => {
    assert.throws(() => parseAttributes(hex("0300 0100")), NetlinkDecodeError);
    assert.throws(() => parseAttributes(hex("0000 0100")), NetlinkDecodeError);
    assert.throws(() => parseAttributes(hex("0900 0100 0102 0304")), NetlinkDecodeError);
  });

  it("checks the sizes of integers", () => {
    assert.throws(() => readU32(hex("010203"), "x"), NetlinkDecodeError);
    assert.throws(() => readU8(Buffer.alloc(0), "x"), NetlinkDecodeError);
    assert.equal(readU32(undefined, "x"), undefined);
    assert.equal(readU8(hex("ff00"), "x"), 255);
  });
});

describe("statusOf()", () => {
  it("answers undefined for the kernel's recorded acks (error 0, request capped)", () => {
    for (const accepted of changes.accepted) {
      const [ack, ...rest] = messagesOf(accepted);
      assert.equal(rest.length, 0);
      assert.equal(ack?.type, NLMSG_ERROR);
      assert.equal(ack && statusOf(ack), undefined, accepted.what);
    }
  });

  it("reads the kernel's errno and extended-ack text after the echoed request, as `ip` prints them", () => {
    const cases: [string, string, number][] = [
      ["add 10.40.0.0/16", "ENETUNREACH", 101],
      ["set veth2 mtu 0", "EINVAL", 22],
      ["delete 10.3.0.99/24", "EADDRNOTAVAIL", 99],
    ];
    for (const [prefix, errno, errnoNumber] of cases) {
      const recorded = refusal(prefix);
      const [error] = messagesOf(recorded);
      const status = error && statusOf(error);
      assert.ok(status instanceof NetlinkError, prefix);
      assert.equal(status.errno, errno);
      assert.equal(status.errnoNumber, errnoNumber);
      assert.equal(`Error: ${status.kernelMessage}.`, recorded.ip.stderr);
      assert.equal(status.message, `${status.kernelMessage} (${errno})`);
    }
    const invalid = statusOf(messagesOf(refusal("set veth2 mtu 0"))[0] as NetlinkMessage);
    assert.equal(invalid?.code, Code.INVALID_ARGUMENT);
    assert.equal(invalid?.kernelMessage, "mtu less than device minimum");
  });

  it("falls back to the errno's description without extended-ack text", () => {
    const [error] = messagesOf(links.get.missing);
    const status = error && statusOf(error);
    assert.equal(status?.kernelMessage, undefined);
    assert.equal(status?.message, "no such device (ENODEV)");
  });

  it("finds the text after a capped request (header only)", () => {
    const payload = hex(`
      eaff ffff  2800 0000 1300 0500 0100 0000 0000 0000
      0800 0100  6e6f 7000`);
    assert.equal(statusOf(message(NLMSG_ERROR, 0x300, payload))?.kernelMessage, "nop");
  });

  it("ignores text it cannot place: an echoed length past the message, or no ACK_TLVS flag", () => {
    const payload = hex("eaff ffff  ff00 0000 1300 0500 0100 0000 0000 0000  0800 0100 6e6f 7000");
    assert.equal(statusOf(message(NLMSG_ERROR, 0x200, payload))?.kernelMessage, undefined);
    assert.equal(statusOf(message(NLMSG_ERROR, 0x000, payload))?.kernelMessage, undefined);
    assert.equal(statusOf(message(NLMSG_ERROR, 0x000, payload))?.errno, "EINVAL");
  });

  it("fuzz: ignores an echoed length past 2^31 or near 2^32 with ack TLVs, never a RangeError or stray text", () => {
    for (const echoed of ["00000080", "fdffff7f", "fdffffff", "ffffffff"]) {
      const payload = hex(`eaff ffff  ${echoed} 1300 0500 0100 0000 0000 0000  0800 0100 6e6f 7000`);
      const status = statusOf(message(NLMSG_ERROR, 0x200, payload));
      assert.equal(status?.errno, "EINVAL", echoed);
      assert.equal(status?.kernelMessage, undefined, echoed);
    }
  });

  it("reads a dump's NLMSG_DONE: status 0, an error, or no status at all", () => {
    assert.equal(statusOf(message(NLMSG_DONE, NLM_F_MULTI, hex("00000000"))), undefined);
    assert.equal(statusOf(message(NLMSG_DONE, NLM_F_MULTI, Buffer.alloc(0))), undefined);
    assert.equal(statusOf(message(NLMSG_DONE, NLM_F_MULTI, hex("f0ffffff")))?.errno, "EBUSY");
  });

  it("names an errno Node does not know by its number", () => {
    const status = statusOf(message(NLMSG_ERROR, 0, hex("0100 0080")));
    assert.equal(status?.errno, "errno 2147483647");
  });

  it("refuses an NLMSG_ERROR too short for its error", () => {
    assert.throws(() => statusOf(message(NLMSG_ERROR, 0, hex("eaff"))), NetlinkDecodeError);
  });
});
