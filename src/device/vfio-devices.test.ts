import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import { capturingLog } from "../log.test-util.js";
import type { Spec } from "../oci/oci-spec.js";
import { DEVICE_HANDLERS, deviceHandlerNames } from "./device-handlers.js";
import type { DeviceSpec } from "./device-spec.js";
import { applyDevices } from "./devices.js";
import { FakePciSysfs, VFIO_MAJOR } from "./fake-pci-sysfs.test-util.js";

const { log, lines } = capturingLog<{ device?: string; option?: string }>();

const vfio = (options: string[], type = "vfio-pci"): DeviceSpec => ({
  id: "17",
  type,
  vmPath: "",
  containerPath: "/dev/vfio/17",
  options,
});

/** What a Kata host sends for host group 17: the group's node with the host's numbers, and its rule. */
const hostSpec = (): Spec => ({
  ociVersion: "1.1.0",
  linux: {
    devices: [{ path: "/dev/vfio/17", type: "c", major: 241, minor: 17 }],
    resources: { devices: [{ allow: true, type: "c", major: 241, minor: 17, access: "rw" }] },
  },
});

const failsWith = (code: Code, message: RegExp) => (e: unknown) =>
  e instanceof AgentError && e.code === code && message.test(e.message);

describe("vfio-pci and vfio-pci-gk on a fake sysfs", () => {
  let sysfs: FakePciSysfs;
  beforeEach(async () => {
    sysfs = await FakePciSysfs.create(log);
    lines.length = 0;
  });
  afterEach(() => sysfs.remove());

  const setUp = (device: DeviceSpec, timeoutMs?: number, signal?: AbortSignal) =>
    (DEVICE_HANDLERS.get(device.type) ?? assert.fail(device.type)).setUp(
      device,
      sysfs.context(log, timeoutMs, signal),
    );

  it("are reported by GetGuestDetails", () => {
    assert.ok(deviceHandlerNames.includes("vfio-pci"));
    assert.ok(deviceHandlerNames.includes("vfio-pci-gk"));
  });

  it("vfio-pci: unbinds a function from its driver behind the bridge, binds it to vfio-pci and gives the group's node", async () => {
    await sysfs.plug({ bdf: "0000:02:03.0", group: "5", driver: "ixgbevf" });
    const update = await setUp(vfio(["0000:3b:00.0=02/03"]));
    assert.deepEqual(update, {
      node: { path: "/dev/vfio/5", type: "c", major: VFIO_MAJOR, minor: 0 },
      finalPath: "/dev/vfio/5",
      pci: [["0000:3b:00.0", "0000:02:03.0"]],
    });
    assert.equal(await sysfs.read(`${sysfs.devpath("0000:02:03.0")}/driver_override`), "vfio-pci");
    assert.equal(await sysfs.read("/bus/pci/drivers/ixgbevf/unbind"), "0000:02:03.0");
    assert.equal(await sysfs.read("/bus/pci/drivers_probe"), "0000:02:03.0");
    assert.equal(await sysfs.driverOf("0000:02:03.0"), "vfio-pci");
    assert.deepEqual(sysfs.waited, [
      "the PCI function at PCI path 02/03 (/devices/pci0000:00/0000:00:02.0/0000:02:03.0)",
      "the VFIO group 5",
    ]);
  });

  it("vfio-pci: waits for a function hot-plugged later, and probes it without an unbind when it has no driver", async () => {
    sysfs.pending.set("0000:02:03.0", { bdf: "0000:02:03.0", group: "7" });
    const update = await setUp(vfio(["0000:3B:00.0=02/03"]));
    assert.equal(update.finalPath, "/dev/vfio/7");
    assert.deepEqual(
      update.pci,
      [["0000:3b:00.0", "0000:02:03.0"]],
      "the host address as the kernel spells it",
    );
    for (const driver of ["ixgbevf", "virtio-pci", "vfio-pci"]) {
      assert.equal(await sysfs.read(`/bus/pci/drivers/${driver}/unbind`), "", driver);
    }
    assert.equal(await sysfs.read("/bus/pci/drivers_probe"), "0000:02:03.0");
  });

  it("vfio-pci: a function vfio-pci has already (a retry, another container) is not rebound", async () => {
    await sysfs.plug({ bdf: "0000:02:03.0", group: "5", driver: "vfio-pci", override: "vfio-pci\n" });
    await sysfs.addGroup("5");
    const update = await setUp(vfio(["0000:3b:00.0=02/03"]));
    assert.equal(update.finalPath, "/dev/vfio/5");
    assert.equal(await sysfs.read("/bus/pci/drivers/vfio-pci/unbind"), "");
    assert.equal(await sysfs.read("/bus/pci/drivers_probe"), "");
  });

  it("vfio-pci: finishes a bind a failed call left half done (override written, driver gone)", async () => {
    await sysfs.plug({ bdf: "0000:02:03.0", group: "5", override: "vfio-pci" });
    const update = await setUp(vfio(["0000:3b:00.0=02/03"]));
    assert.equal(update.finalPath, "/dev/vfio/5");
    assert.equal(await sysfs.read("/bus/pci/drivers_probe"), "0000:02:03.0");
  });

  it("vfio-pci: binds every function of the group and maps each", async () => {
    await sysfs.plug({ bdf: "0000:02:03.0", group: "5", driver: "ixgbevf" });
    await sysfs.plug({ bdf: "0000:02:03.1", group: "5", driver: "ixgbevf" });
    const update = await setUp(vfio(["0000:3b:00.0=02/03", "0000:3b:00.1=02/03.1"]));
    assert.deepEqual(update.pci, [
      ["0000:3b:00.0", "0000:02:03.0"],
      ["0000:3b:00.1", "0000:02:03.1"],
    ]);
    assert.equal(await sysfs.driverOf("0000:02:03.0"), "vfio-pci");
    assert.equal(await sysfs.driverOf("0000:02:03.1"), "vfio-pci");
  });

  it("vfio-pci: skips an option without a guest path, with a warning", async () => {
    await sysfs.plug({ bdf: "0000:02:03.0", group: "5" });
    const update = await setUp(vfio(["0000:3b:00.1=", "0000:3b:00.0=02/03"]));
    assert.deepEqual(update.pci, [["0000:3b:00.0", "0000:02:03.0"]]);
    assert.deepEqual(
      lines.filter((l) => l.level === "warn").map(({ msg, option }) => ({ msg, option })),
      [
        {
          msg: "a VFIO function without a guest PCI path: nothing to set up for it",
          option: "0000:3b:00.1=",
        },
      ],
    );
  });

  it("vfio-pci: rewrites the spec's entry to the guest's group and numbers, and returns the PCI pairs", async () => {
    await sysfs.plug({ bdf: "0000:02:03.0", group: "5", driver: "ixgbevf" });
    const spec = hostSpec();
    const pairs = await applyDevices(spec, [vfio(["0000:3b:00.0=02/03"])], sysfs.context(log));
    assert.deepEqual(pairs, [["0000:3b:00.0", "0000:02:03.0"]]);
    assert.deepEqual(spec.linux?.devices, [{ path: "/dev/vfio/5", type: "c", major: VFIO_MAJOR, minor: 0 }]);
    assert.deepEqual(spec.linux?.resources?.devices, [
      { allow: true, type: "c", major: VFIO_MAJOR, minor: 0, access: "rw" },
      { allow: true, type: "c", major: VFIO_MAJOR, minor: 0, access: "rwm" },
    ]);
  });

  it("vfio-pci-gk: waits for each function and maps it, rebinding nothing; the spec needs no entry", async () => {
    await sysfs.plug({ bdf: "0000:02:03.0", group: "5", driver: "ixgbevf" });
    sysfs.pending.set("0000:02:04.0", { bdf: "0000:02:04.0" });
    const spec: Spec = { ociVersion: "1.1.0" };
    const pairs = await applyDevices(
      spec,
      [vfio(["0000:3b:00.0=02/03", "0000:3c:00.0=02/04"], "vfio-pci-gk")],
      sysfs.context(log),
    );
    assert.deepEqual(pairs, [
      ["0000:3b:00.0", "0000:02:03.0"],
      ["0000:3c:00.0", "0000:02:04.0"],
    ]);
    assert.equal(await sysfs.read(`${sysfs.devpath("0000:02:03.0")}/driver_override`), "(null)\n");
    assert.equal(await sysfs.read("/bus/pci/drivers_probe"), "");
    assert.equal(await sysfs.driverOf("0000:02:03.0"), "ixgbevf");
    assert.deepEqual(spec, { ociVersion: "1.1.0" });
  });

  describe("refuses", () => {
    it("a function without an IOMMU group, before changing anything", async () => {
      await sysfs.plug({ bdf: "0000:02:03.0", driver: "ixgbevf" });
      await assert.rejects(
        setUp(vfio(["0000:3b:00.0=02/03"])),
        failsWith(
          Code.FAILED_PRECONDITION,
          /^vfio-pci device "17" for \/dev\/vfio\/17: 0000:02:03.0 has no IOMMU group \(the guest needs a virtual IOMMU\)$/,
        ),
      );
      assert.equal(await sysfs.read(`${sysfs.devpath("0000:02:03.0")}/driver_override`), "(null)\n");
      assert.equal(await sysfs.read("/bus/pci/drivers/ixgbevf/unbind"), "");
      assert.equal(await sysfs.driverOf("0000:02:03.0"), "ixgbevf");
    });

    it("functions in two IOMMU groups, before changing anything", async () => {
      await sysfs.plug({ bdf: "0000:02:03.0", group: "5" });
      await sysfs.plug({ bdf: "0000:02:04.0", group: "6" });
      await assert.rejects(
        setUp(vfio(["0000:3b:00.0=02/03", "0000:3b:00.1=02/04"])),
        failsWith(
          Code.FAILED_PRECONDITION,
          /0000:02:04.0 is in IOMMU group 6, not in 0000:02:03.0's group 5: one VFIO device is one group$/,
        ),
      );
      assert.equal(await sysfs.read("/bus/pci/drivers_probe"), "");
    });

    const malformed: [string, RegExp][] = [
      ["0000:3b:00.0", /option "0000:3b:00.0" is, not "<host BDF>=<guest PCI path>"/],
      ["0000:3b:00.0=02/03=x", /option "0000:3b:00.0=02\/03=x" is, not/],
      ["3b:00.0=02/03", /option "3b:00.0=02\/03" has no host PCI address, not/],
      ["0000:3b:00.0=02/3g", /option "0000:3b:00.0=02\/3g": PCI path "02\/3g": element 2/],
    ];
    for (const [option, message] of malformed) {
      it(`a malformed option ${JSON.stringify(option)}`, async () => {
        await sysfs.plug({ bdf: "0000:02:03.0", group: "5" });
        await assert.rejects(
          setUp(vfio(["0000:3b:00.1=02/03", option])),
          failsWith(Code.INVALID_ARGUMENT, message),
        );
        assert.deepEqual(sysfs.waited, [], "nothing is awaited before every option is checked");
      });
    }

    it("a device whose options name no function in the guest", async () => {
      await assert.rejects(
        setUp(vfio(["0000:3b:00.0="])),
        failsWith(Code.INVALID_ARGUMENT, /no option names a function in the guest/),
      );
      await assert.rejects(setUp(vfio([])), failsWith(Code.INVALID_ARGUMENT, /no option names a function/));
    });

    it("a function that never appears, naming its PCI path", async () => {
      await assert.rejects(
        setUp(vfio(["0000:3b:00.0=02/05"]), 100),
        failsWith(
          Code.DEADLINE_EXCEEDED,
          /timed out after 100 ms waiting for the PCI function at PCI path 02\/05 \(\/devices\/pci0000:00\/0000:00:02.0\/0000:02:05.0\)$/,
        ),
      );
    });

    it("a function behind a bridge the guest does not have", async () => {
      await assert.rejects(
        setUp(vfio(["0000:3b:00.0=04/01"])),
        failsWith(
          Code.NOT_FOUND,
          /PCI path 04\/01: there is no bridge at \/devices\/pci0000:00\/0000:00:04.0$/,
        ),
      );
    });

    it("a group whose node never appears, saying which driver each function has", async () => {
      sysfs.vfioLoaded = false;
      await sysfs.plug({ bdf: "0000:02:03.0", group: "5", driver: "ixgbevf" });
      await assert.rejects(
        setUp(vfio(["0000:3b:00.0=02/03"]), 100),
        failsWith(
          Code.DEADLINE_EXCEEDED,
          /timed out after 100 ms waiting for the VFIO group 5 \(0000:02:03.0: ixgbevf; is the vfio-pci module loaded\?\)$/,
        ),
      );
    });

    it("to go on once the call's signal is aborted", async () => {
      const abort = new AbortController();
      const call = setUp(vfio(["0000:3b:00.0=02/05"]), 5000, abort.signal);
      abort.abort(new AgentError(Code.CANCELLED, "the host went away"));
      await assert.rejects(call, failsWith(Code.CANCELLED, /the host went away/));
    });
  });
});
