import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import { createLogger } from "../log.js";
import type { Spec } from "../oci/oci-spec.js";
import { runCommand } from "../sys/exec.js";
import { DEVICE_HANDLERS } from "./device-handlers.js";
import { DeviceRegistry } from "./device-registry.js";
import type { DeviceContext } from "./device-spec.js";
import { applyDevices as apply, type DeviceSpec, guestRootDeviceRule } from "./devices.js";

/** An empty sysfs: nothing is hot-plugged, and every wait ends at its short timeout. */
const emptySysfs = await mkdtemp(join(tmpdir(), "berth-devices-sysfs-"));
after(() => rm(emptySysfs, { recursive: true, force: true }));
const noLog = createLogger({ level: "silent" });
const ctx: DeviceContext = {
  devices: new DeviceRegistry({ log: noLog, sysfs: emptySysfs }),
  sysfs: emptySysfs,
  timeoutMs: 150,
  log: noLog,
};
const applyDevices = (spec: Spec, devices: readonly DeviceSpec[]) => apply(spec, devices, ctx);

const device = (d: Partial<DeviceSpec>): DeviceSpec => ({
  id: "",
  type: "mmioblk",
  vmPath: "",
  containerPath: "/dev/xda",
  options: [],
  ...d,
});

/** A spec whose host runtime gave /dev/xda the host numbers 8:16, with an allow rule for them. */
const hostSpec = (): Spec => ({
  ociVersion: "1.1.0",
  linux: {
    devices: [
      { path: "/dev/fuse", type: "c", major: 10, minor: 229 },
      { path: "/dev/xda", type: "b", major: 8, minor: 16, fileMode: 0o660, uid: 0, gid: 6 },
    ],
    resources: {
      devices: [
        { allow: false, access: "rwm" },
        { allow: true, type: "b", major: 8, minor: 16, access: "rwm" },
        { allow: true, type: "c", major: 10, minor: 229, access: "rwm" },
        { allow: true, type: "b", major: 8, access: "r" },
      ],
    },
  },
});

const failsWith = (code: Code, message: RegExp) => (e: unknown) =>
  e instanceof AgentError && e.code === code && message.test(e.message);

describe("applyDevices()", () => {
  it("rewrites the entry and the host's rule to the guest node's type and numbers, and allows it", async () => {
    const spec = hostSpec();
    await applyDevices(spec, [device({ vmPath: "/dev/null" })]);
    assert.deepEqual(spec.linux?.devices, [
      { path: "/dev/fuse", type: "c", major: 10, minor: 229 },
      { path: "/dev/xda", type: "c", major: 1, minor: 3, fileMode: 0o660, uid: 0, gid: 6 },
    ]);
    assert.deepEqual(spec.linux?.resources?.devices, [
      { allow: false, access: "rwm" },
      { allow: true, type: "c", major: 1, minor: 3, access: "rwm" },
      { allow: true, type: "c", major: 10, minor: 229, access: "rwm" },
      { allow: true, type: "b", major: 8, access: "r" },
      { allow: true, type: "c", major: 1, minor: 3, access: "rwm" },
    ]);
  });

  it("rewrites each rule once when one device's guest numbers are another's host numbers", async () => {
    const spec: Spec = {
      ociVersion: "1.1.0",
      linux: {
        devices: [
          { path: "/dev/a", type: "c", major: 1, minor: 5 },
          { path: "/dev/b", type: "c", major: 1, minor: 3 },
        ],
        resources: {
          devices: [
            { allow: true, type: "c", major: 1, minor: 5, access: "rw" },
            { allow: true, type: "c", major: 1, minor: 3, access: "r" },
          ],
        },
      },
    };
    // /dev/a is the guest's /dev/null (1:3); /dev/b is the guest's /dev/zero (1:5).
    await applyDevices(spec, [
      device({ vmPath: "/dev/null", containerPath: "/dev/a" }),
      device({ vmPath: "/dev/zero", containerPath: "/dev/b" }),
    ]);
    assert.deepEqual(spec.linux?.devices, [
      { path: "/dev/a", type: "c", major: 1, minor: 3 },
      { path: "/dev/b", type: "c", major: 1, minor: 5 },
    ]);
    assert.deepEqual(spec.linux?.resources?.devices?.slice(0, 2), [
      { allow: true, type: "c", major: 1, minor: 3, access: "rw" },
      { allow: true, type: "c", major: 1, minor: 5, access: "r" },
    ]);
  });

  it("creates resources.devices for the allow rule when the spec has none", async () => {
    const spec: Spec = { ociVersion: "1.1.0", linux: { devices: [{ path: "/dev/xda", type: "b" }] } };
    await applyDevices(spec, [device({ type: "nvdimm", vmPath: "/dev/null" })]);
    assert.deepEqual(spec.linux?.devices, [{ path: "/dev/xda", type: "c", major: 1, minor: 3 }]);
    assert.deepEqual(spec.linux?.resources?.devices, [
      { allow: true, type: "c", major: 1, minor: 3, access: "rwm" },
    ]);
  });

  it("does nothing for no devices", async () => {
    const spec = hostSpec();
    await applyDevices(spec, []);
    assert.deepEqual(spec, hostSpec());
  });

  describe("refuses, leaving the spec as it was", () => {
    const cases: [string, DeviceSpec, Code, RegExp][] = [
      [
        "a device without a type",
        device({ type: "", vmPath: "/dev/null" }),
        Code.INVALID_ARGUMENT,
        /it has no type/,
      ],
      [
        "a device without an id or a vm_path",
        device({ type: "blk" }),
        Code.INVALID_ARGUMENT,
        /^devices\[1\] \(type "blk", id "", vm_path ""\): it has neither an id nor a vm_path$/,
      ],
      [
        "a device without a container path",
        device({ vmPath: "/dev/null", containerPath: "" }),
        Code.INVALID_ARGUMENT,
        /it has no container_path/,
      ],
      [
        "an unknown type, listing the known ones",
        device({ type: "virtio-gpu", id: "x" }),
        Code.INVALID_ARGUMENT,
        new RegExp(`unknown device type "virtio-gpu" \\(known: ${[...DEVICE_HANDLERS.keys()].join(", ")}\\)`),
      ],
      [
        "a container path the spec does not have",
        device({ vmPath: "/dev/null", containerPath: "/dev/nope" }),
        Code.INVALID_ARGUMENT,
        /the spec has no linux.devices entry with path "\/dev\/nope"/,
      ],
      [
        "a vm_path outside /dev",
        device({ vmPath: "/etc/passwd" }),
        Code.INVALID_ARGUMENT,
        /vm_path "\/etc\/passwd" is not a path under \/dev\//,
      ],
      [
        "a vm_path with ..",
        device({ vmPath: "/dev/../etc/x" }),
        Code.INVALID_ARGUMENT,
        /not a path under \/dev\//,
      ],
      [
        "a vm_path that is not a device node",
        device({ vmPath: "/dev/fd" }),
        Code.INVALID_ARGUMENT,
        /not a block or character device/,
      ],
      [
        "a virtio-mmio disk that never appears",
        device({ vmPath: "/dev/berth-no-such-device" }),
        Code.DEADLINE_EXCEEDED,
        /^mmioblk device for \/dev\/xda: timed out after 150 ms waiting for the virtio-mmio disk berth-no-such-device$/,
      ],
      [
        "a virtio-blk disk behind a bridge the guest does not have",
        device({ type: "blk", id: "02/03" }),
        Code.NOT_FOUND,
        /^blk device "02\/03" for \/dev\/xda: PCI path 02\/03: there is no bridge at \/devices\/pci0000:00\/0000:00:02.0$/,
      ],
      [
        "a malformed PCI path",
        device({ type: "blk", id: "02/3g" }),
        Code.INVALID_ARGUMENT,
        /PCI path "02\/3g": element 2 \("3g"\) is not SS or SS.F in hex/,
      ],
      [
        "a SCSI disk that never appears",
        device({ type: "scsi", id: "0:7" }),
        Code.DEADLINE_EXCEEDED,
        /timed out after 150 ms waiting for the SCSI disk at 0:7/,
      ],
      [
        "a malformed SCSI address",
        device({ type: "scsi", id: "0-7" }),
        Code.INVALID_ARGUMENT,
        /SCSI address "0-7" is not <target>:<lun>/,
      ],
      [
        "an s390x-only type",
        device({ type: "blk-ccw", id: "0.0.0005" }),
        Code.FAILED_PRECONDITION,
        /CCW is only supported on s390x/,
      ],
    ];
    for (const [what, bad, code, message] of cases) {
      it(what, async () => {
        const spec = hostSpec();
        const good = device({ vmPath: "/dev/null", containerPath: "/dev/fuse" });
        await assert.rejects(applyDevices(spec, [good, bad]), failsWith(code, message));
        assert.deepEqual(spec, hostSpec());
      });
    }

    it("two devices of the request for one container path", async () => {
      const spec = hostSpec();
      await assert.rejects(
        applyDevices(spec, [device({ vmPath: "/dev/null" }), device({ vmPath: "/dev/zero" })]),
        failsWith(
          Code.INVALID_ARGUMENT,
          /^mmioblk device for \/dev\/xda: another device of the request has the same/,
        ),
      );
      assert.deepEqual(spec, hostSpec());
    });

    it("two spec entries for one container path", async () => {
      const spec = hostSpec();
      spec.linux?.devices?.push({ path: "/dev/xda", type: "b", major: 8, minor: 32 });
      await assert.rejects(
        applyDevices(spec, [device({ vmPath: "/dev/null" })]),
        failsWith(Code.INVALID_ARGUMENT, /more than one linux.devices entry with that path/),
      );
    });
  });

  it("gives a loop device's block numbers to the container", { skip: process.getuid?.() !== 0 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "berth-devices-"));
    let loop = "";
    try {
      const image = join(dir, "disk.img");
      await writeFile(image, "");
      await truncate(image, 1 << 20);
      loop = (await runCommand(["losetup", "--find", "--show", image])).stdout.trim();
      const [major, minor] = (await runCommand(["stat", "-c", "%t:%T", loop])).stdout
        .trim()
        .split(":")
        .map((hex) => Number.parseInt(hex, 16));
      assert.equal(major, 7, "loop devices are major 7");
      const spec = hostSpec();
      await applyDevices(spec, [device({ type: "mmioblk", vmPath: loop })]);
      assert.deepEqual(spec.linux?.devices?.[1], {
        path: "/dev/xda",
        type: "b",
        major,
        minor,
        fileMode: 0o660,
        uid: 0,
        gid: 6,
      });
      assert.deepEqual(spec.linux?.resources?.devices?.[1], {
        allow: true,
        type: "b",
        major,
        minor,
        access: "rwm",
      });
      assert.deepEqual(spec.linux?.resources?.devices?.at(-1), {
        allow: true,
        type: "b",
        major,
        minor,
        access: "rwm",
      });
    } finally {
      if (loop) await runCommand(["losetup", "--detach", loop]);
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("guestRootDeviceRule()", () => {
  it("denies the block device holding / when there is one", async () => {
    const rule = await guestRootDeviceRule();
    if (rule === undefined) return; // an initramfs, tmpfs or overlay root: nothing to deny
    assert.equal(rule.allow, false);
    assert.equal(rule.type, "b");
    assert.equal(rule.access, "rwm");
    assert.ok(existsSync(`/sys/dev/block/${rule.major}:${rule.minor}`), "a real block device");
  });

  it("gives undefined for a filesystem without a block device", async () => {
    assert.equal(await guestRootDeviceRule("/proc"), undefined);
    assert.equal(await guestRootDeviceRule("/sys"), undefined);
  });

  it("agrees with stat(1) about the device holding /", async () => {
    const { stdout } = await runCommand(["stat", "-c", "%Hd:%Ld", "/"]);
    const [major, minor] = stdout.trim().split(":").map(Number);
    const rule = await guestRootDeviceRule("/");
    if (major === 0) assert.equal(rule, undefined);
    else assert.deepEqual(rule, { allow: false, type: "b", major, minor, access: "rwm" });
  });
});
