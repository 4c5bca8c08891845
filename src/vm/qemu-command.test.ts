import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { kernelCommandLine, qemuArguments, type VmLayout } from "./qemu-command.js";

const LAYOUT: VmLayout = {
  kernel: "/k/vmlinuz",
  initrd: "/k/initrd.cpio",
  qmpSocket: "/v/qmp.sock",
  portSocket: "/v/agent.sock.port",
  share: "/run/kata-containers/shared/containers",
  disks: ["/d/a.img", "/d/b,c.img"],
  memoryMiB: 1024,
  maxMemoryMiB: 4096,
  cpus: 1,
  maxCpus: 4,
  log: "/v/vm.log",
  hotplugTimeoutS: 3,
};

/** The value after each occurrence of `flag`. */
const values = (argv: string[], flag: string) =>
  argv.flatMap((a, i) => (a === flag ? [argv[i + 1] ?? ""] : []));

describe("qemuArguments()", () => {
  const argv = qemuArguments(LAYOUT);
  const devices = values(argv, "-device");

  it("lays the guest out as Kata's q35 guests: the bridge at slot 2, rp0 at slot 1, scsi0 the only SCSI host", () => {
    assert.deepEqual(values(argv, "-machine"), ["q35,accel=tcg,nvdimm=on"]);
    assert.ok(
      devices.some((d) => /^pci-bridge,bus=pcie\.0,id=pci-bridge-0,chassis_nr=1,shpc=off,addr=2,/.test(d)),
    );
    assert.ok(devices.includes("pcie-root-port,id=rp0,bus=pcie.0,chassis=0,slot=0,addr=1"));
    assert.deepEqual(
      devices.filter((d) => /scsi|ahci|usb/.test(d)),
      ["virtio-scsi-pci,id=scsi0,bus=pcie.0,addr=4"],
    );
    assert.equal(
      devices.filter((d) => d.includes("bus=pci-bridge-0")).length,
      0,
      "the bridge's slots are free",
    );
  });

  it("leaves room to hot-plug memory and vCPUs", () => {
    assert.deepEqual(values(argv, "-m"), ["1024M,slots=4,maxmem=4096M"]);
    assert.deepEqual(values(argv, "-smp"), ["1,maxcpus=4,sockets=4,cores=1,threads=1"]);
  });

  it("names the agent's port, shares the directory as kataShared and cold-plugs each disk", () => {
    assert.ok(devices.includes("virtserialport,bus=serial0.0,chardev=agent,name=agent.channel.0"));
    assert.deepEqual(values(argv, "-fsdev"), [
      "local,id=share,path=/run/kata-containers/shared/containers,security_model=none,multidevs=remap",
    ]);
    assert.ok(devices.includes("virtio-9p-pci,fsdev=share,mount_tag=kataShared,bus=pcie.0,addr=5"));
    assert.deepEqual(values(argv, "-drive"), [
      "if=none,id=disk0,file=/d/a.img,format=raw,cache=none,aio=threads",
      "if=none,id=disk1,file=/d/b,,c.img,format=raw,cache=none,aio=threads",
    ]);
    assert.deepEqual(
      devices.filter((d) => d.startsWith("virtio-blk-pci")),
      [
        "virtio-blk-pci,id=blk0,drive=disk0,bus=pcie.0,addr=8",
        "virtio-blk-pci,id=blk1,drive=disk1,bus=pcie.0,addr=9",
      ],
    );
  });

  it("has no IOMMU unless asked for", () => {
    assert.equal(devices.filter((d) => d.includes("iommu")).length, 0);
    assert.doesNotMatch(values(argv, "-append")[0] ?? "", /iommu/);
  });

  it("with iommu: Kata's emulated intel-iommu before every PCI device, a split irqchip and the kernel's IOMMU on", () => {
    const withIommu = qemuArguments({ ...LAYOUT, iommu: true });
    const all = values(withIommu, "-device");
    assert.deepEqual(values(withIommu, "-machine"), ["q35,accel=tcg,nvdimm=on,kernel-irqchip=split"]);
    assert.equal(all[0], "intel-iommu,intremap=on,caching-mode=on");
    assert.equal(all.filter((d) => d.startsWith("intel-iommu")).length, 1);
    assert.deepEqual(all.slice(1), devices, "the other devices as they were");
    const words = (values(withIommu, "-append")[0] ?? "").split(" ");
    assert.ok(words.includes("intel_iommu=on") && words.includes("iommu=pt"));
  });

  it("never reboots, reads no user config and serves QMP without waiting for a client", () => {
    for (const flag of ["-no-reboot", "-no-user-config", "-nodefaults"]) assert.ok(argv.includes(flag), flag);
    assert.deepEqual(values(argv, "-qmp"), ["unix:/v/qmp.sock,server=on,wait=off"]);
  });
});

describe("kernelCommandLine()", () => {
  it("turns the guest's IOMMU on, in passthrough mode for the guest's own devices, only with one", () => {
    const without = kernelCommandLine({ maxCpus: 4, hotplugTimeoutS: 3 });
    const with_ = kernelCommandLine({ maxCpus: 4, hotplugTimeoutS: 3, iommu: true });
    assert.doesNotMatch(without, /iommu/);
    assert.equal(with_.replace(" intel_iommu=on iommu=pt", ""), without);
  });

  it("boots as Kata does, with the agent on the serial port and Kata's hotplug timeout", () => {
    const words = kernelCommandLine({ maxCpus: 4, hotplugTimeoutS: 3 }).split(" ");
    for (const w of [
      "scsi_mod.scan=none",
      "panic=1",
      "nr_cpus=4",
      "cgroup_no_v1=all",
      "systemd.unified_cgroup_hierarchy=1",
      "agent.server_addr=serial://agent.channel.0",
      "agent.hotplug_timeout=3",
    ]) {
      assert.ok(words.includes(w), w);
    }
  });
});
