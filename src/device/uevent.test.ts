import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { MAX_UEVENT_BYTES, parseUevent, ueventFromSysfs } from "./uevent.js";

const recorded = Object.values(
  JSON.parse(
    readFileSync(new URL("../../../src/device/testdata/host-uevents.json", import.meta.url), "utf8"),
  ),
)[0] as string[];
const datagram = (fields: string[]) => Buffer.from(`${fields.join("\0")}\0`, "latin1");

describe("parseUevent()", () => {
  it("reads a recorded block add and a net change", () => {
    const [block, net] = recorded.map((b64) => parseUevent(Buffer.from(b64, "base64")));
    assert.deepEqual(block, {
      action: "add",
      devpath: "/devices/pci0000:00/0000:00:02.0/virtio1/block/vda",
      subsystem: "block",
      devname: "vda",
      interface: "",
      seqnum: 983,
    });
    assert.deepEqual(net, {
      action: "change",
      devpath: "/devices/virtual/net/lo",
      subsystem: "net",
      devname: "",
      interface: "lo",
      seqnum: 984,
    });
  });

  it("drops what is not a kernel uevent", () => {
    const cases: [string, Uint8Array][] = [
      ["empty", Buffer.alloc(0)],
      ["udev's own message", Buffer.from("libudev\0\xfe\xed\xca\xfe", "latin1")],
      ["no header", datagram(["ACTION=add", "DEVPATH=/devices/x"])],
      ["a header without a devpath", datagram(["add@", "ACTION=add"])],
      [
        "a header disagreeing with ACTION",
        datagram(["add@/devices/x", "ACTION=remove", "DEVPATH=/devices/x"]),
      ],
      ["a header disagreeing with DEVPATH", datagram(["add@/devices/x", "ACTION=add", "DEVPATH=/devices/y"])],
      ["a relative devpath", datagram(["add@devices/x", "ACTION=add"])],
      ["too large", Buffer.alloc(MAX_UEVENT_BYTES + 1, 0x61)],
      ["too many fields", datagram(["add@/devices/x", ...Array.from({ length: 70 }, (_, i) => `K${i}=v`)])],
    ];
    for (const [what, bytes] of cases) assert.equal(parseUevent(bytes), undefined, what);
  });

  it("takes a header-only event, and a value with '=' in it whole", () => {
    assert.deepEqual(parseUevent(datagram(["remove@/devices/x", "DEVNAME=a=b"])), {
      action: "remove",
      devpath: "/devices/x",
      subsystem: "",
      devname: "a=b",
      interface: "",
      seqnum: 0,
    });
  });

  it("never throws on any cut of a real datagram", () => {
    const bytes = Buffer.from(recorded[0] ?? "", "base64");
    for (let n = 0; n <= bytes.length; n++) parseUevent(bytes.subarray(0, n));
  });
});

describe("ueventFromSysfs()", () => {
  it("builds the add event of a device from its uevent file and subsystem link", () => {
    assert.deepEqual(
      ueventFromSysfs(
        "/devices/pci0000:00/0000:00:02.0/0000:02:01.0/virtio2/block/vdb",
        "MAJOR=254\nMINOR=16\nDEVNAME=vdb\nDEVTYPE=disk\nDISKSEQ=3\n",
        "block",
      ),
      {
        action: "add",
        devpath: "/devices/pci0000:00/0000:00:02.0/0000:02:01.0/virtio2/block/vdb",
        subsystem: "block",
        devname: "vdb",
        interface: "",
        seqnum: 0,
      },
    );
  });
});
