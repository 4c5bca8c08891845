import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "../errors.js";
import { checkLinkName, planAddress, planInterface } from "./interface-plan.js";
import { AF_INET, AF_INET6 } from "./ip-address.js";
import { type InterfaceText, WIRE_V4, WIRE_V6 } from "./network-types.js";

const request = (fields: Partial<InterfaceText> = {}): InterfaceText => ({
  device: "",
  name: "eth0",
  addresses: [],
  mtu: 1500,
  hwAddr: "02:00:00:00:00:01",
  devicePath: "",
  type: "",
  rawFlags: 0,
  ...fields,
});

const refused = (pattern: RegExp) => (e: unknown) =>
  (e as { code?: unknown }).code === Code.INVALID_ARGUMENT && pattern.test((e as Error).message);

describe("planInterface()", () => {
  it("reads the MAC (any case), name, MTU, NOARP and addresses", () => {
    const plan = planInterface(
      request({
        hwAddr: "02:AB:cd:00:00:01",
        mtu: 1400,
        rawFlags: 0x80 | 0x1,
        devicePath: "02/01",
        addresses: [
          { family: WIRE_V4, address: "10.0.0.2", mask: "24" },
          { family: WIRE_V6, address: "2001:db8::2", mask: "64" },
        ],
      }),
    );
    assert.deepEqual(plan.mac, Uint8Array.from([2, 0xab, 0xcd, 0, 0, 1]));
    assert.equal(plan.name, "eth0");
    assert.equal(plan.mtu, 1400);
    assert.equal(plan.noArp, true);
    assert.equal(plan.devicePath, "02/01");
    assert.deepEqual(
      plan.addresses.map((a) => [a.family, a.bytes.length, a.prefixLength]),
      [
        [AF_INET, 4, 24],
        [AF_INET6, 16, 64],
      ],
    );
  });

  it("keeps the link's own name and MTU when the request leaves them empty or zero", () => {
    const plan = planInterface(request({ name: "", mtu: 0 }));
    assert.equal(plan.name, undefined);
    assert.equal(plan.mtu, undefined);
    assert.equal(plan.noArp, false);
  });

  it("asks for an address given twice once", () => {
    const twice = { family: WIRE_V4, address: "10.0.0.2", mask: "24" };
    assert.equal(planInterface(request({ addresses: [twice, { ...twice }] })).addresses.length, 1);
  });

  it("refuses a request without a MAC, or with one that is not six hex pairs", () => {
    assert.throws(() => planInterface(request({ hwAddr: "" })), refused(/no hwAddr/));
    for (const mac of ["02:00:00:00:00", "02-00-00-00-00-01", "02:00:00:00:00:0g", "02:00:00:00:00:01:02"]) {
      assert.throws(() => planInterface(request({ hwAddr: mac })), refused(/is not a MAC address/), mac);
    }
  });

  it("refuses an MTU past 32 bits and more than 256 addresses", () => {
    assert.throws(
      () => planInterface(request({ mtu: 0x100000000 })),
      refused(/mtu 4294967296 is out of range/),
    );
    const addresses = Array.from({ length: 257 }, (_, i) => ({
      family: WIRE_V4,
      address: `10.0.${i >> 8}.${i & 0xff}`,
      mask: "32",
    }));
    assert.throws(() => planInterface(request({ addresses })), refused(/257 addresses, more than 256/));
  });

  it("refuses a bad name before any address is looked at", () => {
    assert.throws(
      () =>
        planInterface(request({ name: "x/y", addresses: [{ family: WIRE_V4, address: "bad", mask: "24" }] })),
      refused(/interface name "x\/y"/),
    );
  });
});

describe("planAddress()", () => {
  it("takes an IPv6 address given as family v4 (the wire's default) as IPv6", () => {
    assert.equal(planAddress({ family: WIRE_V4, address: "2001:db8::1", mask: "128" }).family, AF_INET6);
  });

  it("refuses an IPv4 address marked v6, a family neither v4 nor v6, a bad address and a bad mask, quoting them", () => {
    const cases: [Parameters<typeof planAddress>[0], RegExp][] = [
      [{ family: WIRE_V6, address: "10.0.0.1", mask: "24" }, /"10\.0\.0\.1" is IPv4 but its family is v6/],
      [{ family: 7, address: "10.0.0.1", mask: "24" }, /"10\.0\.0\.1\/24" has family 7/],
      [{ family: WIRE_V4, address: "10.0.0.256", mask: "24" }, /"10\.0\.0\.256" is not an IP address/],
      [{ family: WIRE_V4, address: "10.0.0.1/24", mask: "24" }, /is not an IP address/],
      [{ family: WIRE_V4, address: "10.0.0.1", mask: "33" }, /mask "33", not a prefix length 0–32/],
      [{ family: WIRE_V6, address: "::1", mask: "129" }, /mask "129", not a prefix length 0–128/],
      [{ family: WIRE_V4, address: "10.0.0.1", mask: "255.255.255.0" }, /mask "255\.255\.255\.0"/],
      [{ family: WIRE_V4, address: "10.0.0.1", mask: "" }, /mask ""/],
      [{ family: WIRE_V4, address: "10.0.0.1", mask: "024" }, /mask "024"/],
    ];
    for (const [text, pattern] of cases)
      assert.throws(() => planAddress(text), refused(pattern), text.address);
  });
});

describe("checkLinkName()", () => {
  it("takes what the kernel takes: 1–15 bytes without '/', ':' or white space", () => {
    for (const name of ["eth0", "a", "fifteen-chars-x", "veth.1@x"]) checkLinkName(name);
  });

  it("refuses what dev_valid_name refuses", () => {
    for (const name of ["sixteen-chars-xx", ".", "..", "a/b", "a:b", "a b", "a\tb", "a\0b", "ééééééééé"]) {
      assert.throws(() => checkLinkName(name), refused(/interface name/), JSON.stringify(name));
    }
  });
});
