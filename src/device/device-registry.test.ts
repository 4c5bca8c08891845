import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { after, describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import { createLogger } from "../log.js";
import { DeviceRegistry } from "./device-registry.js";
import { event, FakeSysfs } from "./fake-sysfs.test-util.js";
import { blockNamed, netInterface, scsiDisk, virtioBlkPci } from "./matchers.js";

const log = createLogger({ level: "silent" });
const BRIDGE = "/devices/pci0000:00/0000:00:02.0";
const FN = `${BRIDGE}/0000:02:01.0`;
const DISK = `${FN}/virtio2/block/vda`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const fails = (code: Code, message: RegExp) => (e: unknown) =>
  e instanceof AgentError && e.code === code && message.test(e.message);

function setUp() {
  const sysfs = new FakeSysfs();
  const registry = new DeviceRegistry({ log, sysfs: sysfs.root, devfs: sysfs.dev, pollMs: 20 });
  registry.setEventSource(true);
  return { sysfs, registry };
}

describe("DeviceRegistry", () => {
  const all: FakeSysfs[] = [];
  after(() => {
    for (const s of all) s.close();
  });
  const fresh = () => {
    const made = setUp();
    all.push(made.sysfs);
    return made;
  };
  const blk = () => virtioBlkPci(FN, "02/01");

  it("finds a device present before the wait (cold plug) without any event", async () => {
    const { sysfs, registry } = fresh();
    sysfs.device(DISK, "block", { DEVNAME: "vda", MAJOR: "254", MINOR: "0" });
    const found = await registry.waitFor(blk(), { timeoutMs: 1000 });
    assert.equal(found.devname, "vda");
    assert.equal(found.seqnum, 0, "read back from sysfs");
  });

  it("resolves on the event that comes after registering, ignoring the PCI, virtio and partition events", async () => {
    const { registry } = fresh();
    const wait = registry.waitFor(blk(), { timeoutMs: 1000 });
    registry.handle(event("add", FN, "pci"));
    registry.handle(event("add", `${FN}/virtio2`, "virtio"));
    registry.handle(event("add", `${DISK}/vda1`, "block", { devname: "vda1" }));
    registry.handle(event("add", `${BRIDGE}/0000:02:02.0/virtio3/block/vdb`, "block", { devname: "vdb" }));
    registry.handle(event("add", DISK, "block", { devname: "vda", seqnum: 7 }));
    assert.equal((await wait).seqnum, 7);
  });

  it("misses no event that lands while sysfs is being read (registered first)", async () => {
    const { registry } = fresh();
    const wait = registry.waitFor(blk(), { timeoutMs: 1000 });
    // The look in sysfs is in flight (an await away); the event arrives before it ends.
    registry.handle(event("add", DISK, "block", { devname: "vda", seqnum: 9 }));
    assert.equal((await wait).seqnum, 9);
  });

  it("does not take a device sysfs shows before its node exists: the event ends that wait", async () => {
    const { sysfs, registry } = fresh();
    sysfs.device(DISK, "block", { MAJOR: "254", MINOR: "0" });
    writeFileSync(`${sysfs.root}${DISK}/uevent`, "MAJOR=254\nMINOR=0\nDEVNAME=vda\n");
    const wait = registry.waitFor(blk(), { timeoutMs: 1000 });
    await sleep(50);
    let settled = false;
    void wait.then(() => {
      settled = true;
    });
    await sleep(20);
    assert.equal(settled, false, "no /dev/vda yet");
    registry.handle(event("add", DISK, "block", { devname: "vda", seqnum: 3 }));
    assert.equal((await wait).seqnum, 3);
  });

  it("does not count a device announced removed that sysfs still shows, until it is added again", async () => {
    const { sysfs, registry } = fresh();
    sysfs.device(DISK, "block", { DEVNAME: "vda" });
    registry.handle(event("remove", DISK, "block", { devname: "vda" }));
    registry.handle(event("remove", FN, "pci"));
    await assert.rejects(
      registry.waitFor(blk(), { timeoutMs: 100 }),
      fails(
        Code.DEADLINE_EXCEEDED,
        /^timed out after 100 ms waiting for the virtio-blk disk at PCI path 02\/01/,
      ),
    );
    const wait = registry.waitFor(blk(), { timeoutMs: 1000 });
    registry.handle(event("add", FN, "pci"));
    registry.handle(event("add", DISK, "block", { devname: "vda", seqnum: 12 }));
    assert.equal((await wait).seqnum, 12);
    assert.equal((await registry.waitFor(blk(), { timeoutMs: 1000 })).seqnum, 0, "present again");
  });

  it("looks in sysfs again when events were lost", async () => {
    const { sysfs, registry } = fresh();
    const wait = registry.waitFor(blk(), { timeoutMs: 2000 });
    await sleep(30);
    sysfs.device(DISK, "block", { DEVNAME: "vda" });
    registry.rescan();
    assert.equal((await wait).devname, "vda");
  });

  it("polls sysfs when it has no event source", async () => {
    const { sysfs, registry } = fresh();
    registry.setEventSource(false);
    const wait = registry.waitFor(blk(), { timeoutMs: 2000 });
    await sleep(50);
    sysfs.device(DISK, "block", { DEVNAME: "vda" });
    assert.equal((await wait).devname, "vda");
  });

  it("honours the abort and the waiter limit, and forgets every finished wait", async () => {
    const sysfs = new FakeSysfs();
    all.push(sysfs);
    const registry = new DeviceRegistry({ log, sysfs: sysfs.root, devfs: sysfs.dev, maxWaiters: 2 });
    registry.setEventSource(true);
    const controller = new AbortController();
    const one = registry.waitFor(blk(), { timeoutMs: 5000, signal: controller.signal });
    const two = registry.waitFor(scsiDisk(0, 1), { timeoutMs: 5000 });
    await assert.rejects(
      registry.waitFor(blk(), { timeoutMs: 5000 }),
      fails(Code.RESOURCE_EXHAUSTED, /2 calls are waiting for devices already/),
    );
    controller.abort(new AgentError(Code.DEADLINE_EXCEEDED, "the call's deadline passed"));
    await assert.rejects(one, fails(Code.DEADLINE_EXCEEDED, /the call's deadline passed/));
    registry.handle(
      event("add", "/devices/pci0000:00/0000:00:04.0/virtio1/host0/target0:0:1/0:0:1:1/block/sda", "block", {
        devname: "sda",
      }),
    );
    registry.handle(
      event("add", "/devices/pci0000:00/0000:00:04.0/virtio1/host0/target0:0:0/0:0:0:1/block/sdb", "block", {
        devname: "sdb",
      }),
    );
    assert.equal((await two).devname, "sdb");
    await registry.waitFor(blk(), { timeoutMs: 10 }).catch(() => {});
    await registry.waitFor(blk(), { timeoutMs: 10 }).catch(() => {});
  });

  it("tells its add listeners of every add event, after the waiters, and survives a listener that throws", async () => {
    const { registry } = fresh();
    const heard: string[] = [];
    registry.onAdd(() => {
      throw new Error("a broken listener");
    });
    registry.onAdd((e) => heard.push(`${e.subsystem} ${e.devpath}`));
    const wait = registry.waitFor(blk(), { timeoutMs: 1000 });
    registry.handle(event("add", "/devices/system/memory/memory33", "memory"));
    registry.handle(event("remove", "/devices/system/memory/memory32", "memory"));
    registry.handle(event("add", DISK, "block", { devname: "vda", seqnum: 3 }));
    assert.equal((await wait).seqnum, 3);
    assert.deepEqual(heard, ["memory /devices/system/memory/memory33", `block ${DISK}`]);
  });
});

describe("matchers, on a fake sysfs", () => {
  const sysfs = new FakeSysfs();
  after(() => sysfs.close());
  const virtio = "/devices/pci0000:00/0000:00:04.0/virtio1";
  sysfs.device(`${virtio}/host0/scsi_host/host0`, "scsi_host");
  sysfs.device(`${virtio}/host0/target0:0:0/0:0:0:1/block/sda`, "block", { DEVNAME: "sda" });
  // An emulated controller's host: not virtio, never taken for Kata's SCSI disks.
  sysfs.device("/devices/pci0000:00/0000:00:1f.2/ata1/host1/scsi_host/host1", "scsi_host");
  sysfs.device("/devices/pci0000:00/0000:00:1f.2/ata1/host1/target1:0:0/1:0:0:2/block/sdc", "block", {
    DEVNAME: "sdc",
  });
  const pmem = "/devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0012:00/ndbus0/region0/namespace0.0/block/pmem0";
  sysfs.device(pmem, "block", { DEVNAME: "pmem0" });
  const nic = "/devices/pci0000:00/0000:00:02.0/0000:02:04.0";
  sysfs.device(`${nic}/virtio5/net/eth1`, "net", { INTERFACE: "eth1" });
  const fake = new DeviceRegistry({ log, sysfs: sysfs.root, devfs: sysfs.dev }).sysfs;

  it("scsi: the disk of a virtio-scsi host at target:lun, whatever the host's number", async () => {
    assert.equal((await scsiDisk(0, 1).present(fake))?.devname, "sda");
    assert.equal(await scsiDisk(0, 2).present(fake), undefined, "the ATA host's disk is not Kata's");
    const m = scsiDisk(0, 1);
    assert.ok(
      m.matches(
        event(
          "add",
          `/devices/pci0000:00/0000:00:05.0/virtio3/host2/target2:0:0/2:0:0:1/block/sdd`,
          "block",
          { devname: "sdd" },
        ),
      ),
    );
    assert.ok(
      !m.matches(event("add", `${virtio}/host0/target0:0:0/0:0:0:10/block/sde`, "block", { devname: "sde" })),
    );
    assert.ok(
      !m.matches(
        event("remove", `${virtio}/host0/target0:0:0/0:0:0:1/block/sda`, "block", { devname: "sda" }),
      ),
    );
  });

  it("pmem: only under the NVDIMM bus; a plain disk of that name is not it", async () => {
    assert.equal(
      (await blockNamed("pmem0", "the pmem device", "/devices/LNXSYSTM").present(fake))?.devpath,
      pmem,
    );
    assert.ok(
      !blockNamed("pmem0", "x", "/devices/LNXSYSTM").matches(
        event("add", "/devices/virtual/block/pmem0", "block", { devname: "pmem0" }),
      ),
    );
  });

  it("net: the interface under the NIC's function, from sysfs or its event", async () => {
    assert.equal((await netInterface(nic, "02/04").present(fake))?.interface, "eth1");
    assert.equal(await netInterface(`${nic.slice(0, -1)}5`, "02/05").present(fake), undefined);
    assert.ok(
      netInterface(nic, "02/04").matches(
        event("add", `${nic}/virtio5/net/eth2`, "net", { interface: "eth2" }),
      ),
    );
    assert.ok(
      !netInterface(nic, "02/04").matches(
        event("add", `${nic}0/virtio5/net/eth2`, "net", { interface: "eth2" }),
      ),
    );
  });
});
