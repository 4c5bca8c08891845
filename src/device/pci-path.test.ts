import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import { FakeSysfs } from "./fake-sysfs.test-util.js";
import { formatPciPath, parsePciPath, pciPathFromSlots, resolvePciPath } from "./pci-path.js";

const fails = (code: Code, message: RegExp) => (e: unknown) =>
  e instanceof AgentError && e.code === code && message.test(e.message);

describe("parsePciPath()", () => {
  it("reads Kata's forms: slots, functions, a pxb root bus", () => {
    assert.deepEqual(parsePciPath("02/01"), {
      rootBus: "00",
      slots: [
        { slot: 2, fn: 0 },
        { slot: 1, fn: 0 },
      ],
    });
    assert.deepEqual(parsePciPath("1f.7"), { rootBus: "00", slots: [{ slot: 0x1f, fn: 7 }] });
    assert.deepEqual(parsePciPath("20/00/02"), {
      rootBus: "20",
      slots: [
        { slot: 0, fn: 0 },
        { slot: 2, fn: 0 },
      ],
    });
    // Three elements whose first is a slot: OVMF's nested bridges on root bus 00.
    assert.equal(parsePciPath("02/00/01").rootBus, "00");
    for (const text of ["02/01", "1f.7", "20/00/02", "03.2/04"])
      assert.equal(formatPciPath(parsePciPath(text)), text);
  });

  it("refuses what Kata refuses, saying why", () => {
    const cases: [string, RegExp][] = [
      ["", /it is empty/],
      ["20", /slot 20 of element 1 is past 1f/],
      ["00.8", /element 1 \("00.8"\) is not SS or SS.F/],
      ["//", /element 1 \(""\)/],
      ["00/", /element 2 \(""\)/],
      ["0x02", /element 1/],
      [Array(17).fill("01").join("/"), /more than 16 elements/],
    ];
    for (const [text, message] of cases)
      assert.throws(() => parsePciPath(text), fails(Code.INVALID_ARGUMENT, message));
  });

  it("takes AddSwap's slots on root bus 00", () => {
    assert.equal(formatPciPath(pciPathFromSlots([2, 3])), "02/03");
    assert.throws(() => pciPathFromSlots([]), fails(Code.INVALID_ARGUMENT, /not 1 to 16 slots/));
    assert.throws(() => pciPathFromSlots([32]), fails(Code.INVALID_ARGUMENT, /not 1 to 16 slots/));
  });
});

describe("resolvePciPath()", () => {
  const sysfs = new FakeSysfs();
  after(() => sysfs.close());
  // As QEMU laid it out here: rp0 at 00:01.0 got bus 01, pci-bridge-0 at 00:02.0 got bus 02 — and a
  // bridge at 00:05.0 that enumerated later got bus 07 (bus numbers do not follow slots).
  sysfs.bridge("/devices/pci0000:00/0000:00:01.0", "0000:01");
  sysfs.bridge("/devices/pci0000:00/0000:00:02.0", "0000:02");
  sysfs.bridge("/devices/pci0000:00/0000:00:05.0", "0000:07");
  sysfs.bridge("/devices/pci0000:00/0000:00:05.0/0000:07:03.0", "0000:08");
  sysfs.device("/devices/pci0000:00/0000:00:06.0", "pci");
  // A bridge without pci_bus/: the bus comes from the devices behind it.
  sysfs.device("/devices/pci0000:00/0000:00:09.0", "pci");
  sysfs.device("/devices/pci0000:00/0000:00:09.0/0000:0a:01.0", "pci");

  it("walks each bridge's secondary bus; the last function need not exist yet", async () => {
    const cases: [string, string, string][] = [
      ["02/01", "/devices/pci0000:00/0000:00:02.0/0000:02:01.0", "0000:02:01.0"],
      ["01/00", "/devices/pci0000:00/0000:00:01.0/0000:01:00.0", "0000:01:00.0"],
      ["05/03/1f.2", "/devices/pci0000:00/0000:00:05.0/0000:07:03.0/0000:08:1f.2", "0000:08:1f.2"],
      ["08", "/devices/pci0000:00/0000:00:08.0", "0000:00:08.0"],
      ["09/04", "/devices/pci0000:00/0000:00:09.0/0000:0a:04.0", "0000:0a:04.0"],
    ];
    for (const [path, devpath, bdf] of cases) {
      assert.deepEqual(await resolvePciPath(sysfs.root, parsePciPath(path)), { devpath, bdf }, path);
    }
  });

  it("fails when a bridge on the way is missing or is not a bridge", async () => {
    await assert.rejects(
      resolvePciPath(sysfs.root, parsePciPath("03/01")),
      fails(Code.NOT_FOUND, /^PCI path 03\/01: there is no bridge at \/devices\/pci0000:00\/0000:00:03.0$/),
    );
    await assert.rejects(
      resolvePciPath(sysfs.root, parsePciPath("06/01")),
      fails(Code.NOT_FOUND, /0000:00:06.0 is not a bridge with devices behind it/),
    );
  });
});
