/**
 * Devices and block storages in the real guest, plugged the way Kata's runtime plugs them: QMP
 * blockdev-add + device_add onto pci-bridge-0, the root port rp0 and scsi0 (booted with
 * scsi_mod.scan=none), an NVDIMM, a NIC; a disk cold-plugged on the command line, present before berth
 * started; and disks grown by QMP block_resize for ResizeVolume. One VM serves the tests, in order.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code } from "../../src/protocol/ttrpc/code.js";
import { qmpCommand } from "../../src/vm/qmp.js";
import { AgentRpc } from "../support/agent-rpc.js";
import { makeBusyboxRootfs } from "../support/busybox-rootfs.js";
import { failsWith } from "../support/container-fixture.js";
import { bindInto, containerSpec, type SpecOptions } from "../support/container-spec.js";
import {
  type DiskPlace,
  killVm,
  plugDisk,
  SHARE,
  ShareNamespace,
  startVm,
  unplug,
  type VmHandle,
} from "../support/vm.js";

const T = 60_000;

interface Storage {
  driver: string;
  source: string;
  fstype: string;
  options: string[];
  mountPoint: string;
  fsGroup?: { groupId: number; groupChangePolicy: number };
}
interface Device {
  type: string;
  id: string;
  vmPath: string;
  containerPath: string;
  options: string[];
}
const STORAGE_DIR = "/run/kata-containers/sandbox/storage";
/** Where Kata's runtime mounts a block volume: the base64url of its source ("02/01" → MDIvMDE=). */
const volumeAt = (source: string) =>
  `${STORAGE_DIR}/${Buffer.from(source).toString("base64url")}=`.replace(/==$/, "=");

/** An ext4 image holding one file, `hello`, with `text`. */
function ext4Image(dir: string, name: string, text: string): string {
  const content = join(dir, `${name}.d`);
  mkdirSync(content);
  writeFileSync(join(content, "hello"), `${text}\n`);
  const image = join(dir, `${name}.img`);
  execFileSync("mkfs.ext4", ["-q", "-F", "-d", content, image, "16M"]);
  return image;
}

describe("devices and block storages in a QEMU guest", { timeout: 600_000 }, () => {
  let ns: ShareNamespace;
  let vm: VmHandle | undefined;
  let rpc: AgentRpc;
  let dir: string;
  const rootfs = `${SHARE}/dev-c/rootfs`;
  const out = `${SHARE}/out`;

  before(async () => {
    ns = await ShareNamespace.open();
    mkdirSync(ns.path(`${SHARE}/dev-c`), { recursive: true });
    mkdirSync(ns.path(out));
    makeBusyboxRootfs(ns.path(rootfs));
    dir = mkdtempSync(join(tmpdir(), "berth-vm-devices-"));
    const cold = ext4Image(dir, "cold", "cold-plugged");
    vm = await startVm(ns, ["--hotplug-timeout", "3", "--disk", cold]);
    rpc = await AgentRpc.connect(vm.agentSocket);
    const share = JSON.parse(vm.storageJson);
    await rpc.call("createSandbox", { sandboxId: "devices", hostname: "devices", storages: [share] }, T);
  });

  after(() => {
    rpc?.close();
    killVm(vm);
    ns?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const v = () => vm as VmHandle;
  const read = (name: string) => readFileSync(ns.path(`${out}/${name}`), "utf8").trim();

  /** Creates a container running `script` with /out, and the wire's storages and devices. */
  const create = (
    id: string,
    script: string,
    parts: { storages?: Storage[]; devices?: Device[]; spec?: Partial<SpecOptions> } = {},
  ) =>
    rpc.call(
      "createContainer",
      {
        containerId: id,
        execId: id,
        OCI: containerSpec({
          rootfs,
          args: ["sh", "-c", script],
          ...parts.spec,
          mounts: [bindInto(out, "/out"), ...(parts.spec?.mounts ?? [])],
        }),
        storages: parts.storages ?? [],
        devices: parts.devices ?? [],
      },
      T,
    );
  /** Starts a created container, waits for it and removes it: its exit status. */
  const finish = async (id: string) => {
    await rpc.call("startContainer", { containerId: id }, T);
    const { status } = await rpc.call("waitProcess", { containerId: id, execId: "" }, T);
    await rpc.call("removeContainer", { containerId: id }, T);
    return status;
  };
  const volume = (driver: string, source: string, extra: Partial<Storage> = {}): Storage => ({
    driver,
    source,
    fstype: "ext4",
    options: [],
    mountPoint: volumeAt(source),
    ...extra,
  });
  const readVolume = (source: string) => ({ spec: { mounts: [bindInto(volumeAt(source), "/data")] } });

  it("mounts a disk cold-plugged at boot by its PCI path at once: no uevent will ever come for it", async () => {
    const started = Date.now();
    await create("cold", "cat /data/hello > /out/cold", {
      storages: [volume("blk", "08")],
      ...readVolume("08"),
    });
    const created = Date.now() - started;
    assert.equal(await finish("cold"), 0);
    assert.equal(read("cold"), "cold-plugged");
    assert.ok(created < 3000, `CreateContainer took ${created} ms (the hotplug timeout is 3 s)`);
    assert.match(
      readFileSync(v().log, "utf8"),
      /"devpath":"\/devices\/pci0000:00\/0000:00:08.0\/virtio\d+\/block\/vd[a-z]","waited_ms":\d+,"monotonic_us":\d+,"msg":"device present"/,
    );
  });

  it("waits for a disk hot-plugged on pci-bridge-0 just after CreateContainer was sent (02/01)", async () => {
    const image = ext4Image(dir, "bridge", "on-the-bridge");
    const creating = create("bridge", "cat /data/hello > /out/bridge", {
      storages: [volume("blk", "02/01")],
      ...readVolume("02/01"),
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const plugged = Date.now();
    await plugDisk(v(), "blk-bridge", image, { bridgeSlot: 1 });
    await creating;
    process.stderr.write(`# device_add on the bridge → CreateContainer done: ${Date.now() - plugged} ms\n`);
    assert.equal(await finish("bridge"), 0);
    assert.equal(read("bridge"), "on-the-bridge");
  });

  it("finds a disk on the root port rp0 (01/00), whose bus number is not its slot, and gives it the pod's fsGroup", async () => {
    await plugDisk(v(), "blk-port", ext4Image(dir, "port", "on-the-root-port"), { rootPort: true });
    await create("port", "cat /data/hello > /out/port; stat -c '%g %A' /data /data/hello > /out/port.stat", {
      storages: [volume("blk", "01/00", { fsGroup: { groupId: 3000, groupChangePolicy: 0 } })],
      ...readVolume("01/00"),
    });
    assert.equal(await finish("port"), 0);
    assert.equal(read("port"), "on-the-root-port");
    assert.equal(read("port.stat"), "3000 drwxrwsr-x\n3000 -rw-rw-r--");
  });

  it("scans for a SCSI disk at its address (0:1) under scsi_mod.scan=none, read-only", async () => {
    await plugDisk(v(), "sd1", ext4Image(dir, "scsi", "on-scsi"), { scsiLun: 1 });
    await create(
      "scsi",
      "cat /data/hello > /out/scsi; touch /data/x 2> /out/scsi.err; echo $? >> /out/scsi.err",
      {
        storages: [volume("scsi", "0:1", { options: ["ro"] })],
        ...readVolume("0:1"),
      },
    );
    assert.equal(await finish("scsi"), 0);
    assert.equal(read("scsi"), "on-scsi");
    assert.match(read("scsi.err"), /Read-only file system\n1$/);
  });

  it("mounts an NVDIMM's pmem device", async () => {
    const image = join(dir, "pmem.img");
    execFileSync("truncate", ["-s", "128M", image]);
    const content = join(dir, "pmem.d");
    mkdirSync(content);
    writeFileSync(join(content, "hello"), "on-pmem\n");
    execFileSync("mkfs.ext4", ["-q", "-F", "-d", content, image]);
    await qmpCommand(v().qmpSocket, "object-add", {
      "qom-type": "memory-backend-file",
      id: "nvm1",
      "mem-path": image,
      size: 128 << 20,
      share: true,
    });
    await qmpCommand(v().qmpSocket, "device_add", { driver: "nvdimm", id: "nv1", memdev: "nvm1" });
    await create("pmem", "cat /data/hello > /out/pmem", {
      storages: [volume("nvdimm", "/dev/pmem0")],
      ...readVolume("/dev/pmem0"),
    });
    assert.equal(await finish("pmem"), 0);
    assert.equal(read("pmem"), "on-pmem");
  });

  it("fails a disk that never comes with DEADLINE_EXCEEDED naming it, and rolls back: the same id works later", async () => {
    const started = Date.now();
    await assert.rejects(
      create("late", "cat /data/hello > /out/late", {
        storages: [volume("blk", "02/05")],
        ...readVolume("02/05"),
      }),
      failsWith(
        Code.DEADLINE_EXCEEDED,
        /blk storage "02\/05" for \S+: timed out after 3000 ms waiting for the virtio-blk disk at PCI path 02\/05 \(\/devices\/pci0000:00\/0000:00:02.0\/0000:02:05.0\)/,
      ),
    );
    assert.ok(Date.now() - started >= 2900);
    await plugDisk(v(), "blk-late", ext4Image(dir, "late", "came-late"), { bridgeSlot: 5 });
    await create("late", "cat /data/hello > /out/late", {
      storages: [volume("blk", "02/05")],
      ...readVolume("02/05"),
    });
    assert.equal(await finish("late"), 0);
    assert.equal(read("late"), "came-late");
  });

  it("lets a disk go once its container is removed, and a new disk in the same slot is the new one", async () => {
    await unplug(v(), "blk-bridge", "drive-blk-bridge");
    await plugDisk(v(), "blk-bridge2", ext4Image(dir, "again", "the-new-disk"), { bridgeSlot: 1 });
    await create("again", "cat /data/hello > /out/again", {
      storages: [volume("blk", "02/01")],
      ...readVolume("02/01"),
    });
    assert.equal(await finish("again"), 0);
    assert.equal(read("again"), "the-new-disk");
  });

  it("gives a container a raw block device by PCI path; what it writes is on the host's file", async () => {
    const image = join(dir, "raw.img");
    execFileSync("truncate", ["-s", "8M", image]);
    await plugDisk(v(), "blk-raw", image, { bridgeSlot: 2 });
    await create(
      "raw",
      "stat -c %t:%T /dev/xdb > /out/raw; echo raw-from-the-guest | dd of=/dev/xdb conv=fsync 2>/dev/null",
      {
        devices: [{ type: "blk", id: "02/02", vmPath: "/dev/vdq", containerPath: "/dev/xdb", options: [] }],
        spec: { devices: [{ path: "/dev/xdb", type: "b", major: 8n, minor: 16n }] },
      },
    );
    assert.equal(await finish("raw"), 0);
    assert.match(read("raw"), /^fe:[0-9a-f]+$/, "a virtio-blk node (major 254)");
    await unplug(v(), "blk-raw", "drive-blk-raw");
    assert.equal(readFileSync(image, "latin1").slice(0, 19), "raw-from-the-guest\n");
  });

  /** A volume's total bytes, as GetVolumeStats answers. */
  const volumeBytes = async (source: string) =>
    (await rpc.call("getVolumeStats", { volumeGuestPath: volumeAt(source) }, T)).usage[0]?.total ?? 0n;

  const growable: [string, "blk" | "scsi", string, DiskPlace][] = [
    ["a virtio-blk disk (its new capacity comes by itself)", "blk", "02/06", { bridgeSlot: 6 }],
    ["a SCSI disk (rescanned for its new capacity)", "scsi", "0:2", { scsiLun: 2 }],
  ];
  for (const [name, driver, source, place] of growable) {
    it(`ResizeVolume grows the ext4 of ${name} that QEMU grew (block_resize)`, async (t) => {
      const id = `grow-${driver}`;
      await plugDisk(v(), id, ext4Image(dir, id, id), place);
      await create(id, `cat /data/hello > /out/${id}`, {
        storages: [volume(driver, source)],
        ...readVolume(source),
      });
      const before = await volumeBytes(source);
      const size = 64n << 20n;
      await qmpCommand(v().qmpSocket, "block_resize", { "node-name": `drive-${id}`, size: Number(size) });
      await rpc.call("resizeVolume", { volumeGuestPath: volumeAt(source), size }, T);
      const after = await volumeBytes(source);
      assert.ok(after > before + (32n << 20n) && after <= size, `${before} → ${after} bytes`);
      t.diagnostic(`${driver}: ${before} → ${after} bytes`);
      assert.equal(await finish(id), 0);
      assert.equal(read(id), id);
    });
  }

  it("configures a NIC hot-plugged at a PCI path with UpdateInterface", async () => {
    await qmpCommand(v().qmpSocket, "netdev_add", { type: "user", id: "net1" });
    const updating = rpc.call(
      "updateInterface",
      {
        interface: {
          name: "eth1",
          hwAddr: "02:00:00:00:00:42",
          mtu: 1400n,
          devicePath: "02/04",
          IPAddresses: [{ family: 0, address: "10.0.2.15", mask: "24" }],
        },
      },
      T,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    await qmpCommand(v().qmpSocket, "device_add", {
      driver: "virtio-net-pci",
      id: "nic1",
      netdev: "net1",
      mac: "02:00:00:00:00:42",
      bus: "pci-bridge-0",
      addr: "04",
    });
    const reply = await updating;
    assert.equal(reply.name, "eth1");
    assert.equal(reply.mtu, 1400n);
    assert.deepEqual(
      reply.IPAddresses.filter((a) => a.family === 0).map((a) => `${a.address}/${a.mask}`),
      ["10.0.2.15/24"],
    );
  });
});
