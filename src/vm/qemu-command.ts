/** The name Kata 1.x gave the agent's virtio-serial port, and the one berth's guest listens on. */
export const AGENT_PORT_NAME = "agent.channel.0";
/** The 9p mount tag of the shared directory, as Kata's. */
export const SHARE_TAG = "kataShared";
/** Kata's default `agent.hotplug_timeout`, in seconds. */
export const DEFAULT_HOTPLUG_TIMEOUT_S = 3;

export interface VmLayout {
  kernel: string;
  initrd: string;
  /** The QMP socket QEMU serves (one client at a time). */
  qmpSocket: string;
  /** The unix socket QEMU serves the agent port's host end on. */
  portSocket: string;
  /** Shared with the guest over 9p as SHARE_TAG. */
  share: string;
  disks: readonly string[];
  memoryMiB: number;
  maxMemoryMiB: number;
  cpus: number;
  maxCpus: number;
  /** Guest console and QEMU's own messages. */
  log: string;
  hotplugTimeoutS: number;
  /**
   * An emulated Intel IOMMU (Kata's `enable_iommu`), so that the guest has IOMMU groups and can bind
   * devices to vfio-pci.
   */
  iommu?: boolean | undefined;
}

/**
 * The kernel command line of a Kata guest on x86_64 (the Go runtime's arch parameters, with its IOMMU
 * ones when there is one), its cgroup setup (v2 only) and `scsi_mod.scan=none` as Kata passes with
 * virtio-scsi, then the agent's parameters.
 */
export function kernelCommandLine(layout: Pick<VmLayout, "maxCpus" | "hotplugTimeoutS" | "iommu">): string {
  return [
    "tsc=reliable no_timer_check rcupdate.rcu_expedited=1 i8042.direct=1 i8042.dumbkbd=1 i8042.nopnp=1",
    "i8042.noaux=1 noreplace-smp reboot=k cryptomgr.notests net.ifnames=0 pci=lastbus=0",
    ...(layout.iommu ? ["intel_iommu=on iommu=pt"] : []),
    `console=ttyS0 quiet panic=1 nr_cpus=${layout.maxCpus} scsi_mod.scan=none`,
    "cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1",
    `agent.server_addr=serial://${AGENT_PORT_NAME} agent.hotplug_timeout=${layout.hotplugTimeoutS}`,
  ].join(" ");
}

/**
 * QEMU's arguments for a guest laid out as Kata lays out its q35 guests, under TCG: `pci-bridge-0` at
 * slot 2 of pcie.0 with its slots free (ACPI hotplug), a root port `rp0` at slot 1, `scsi0` the only SCSI
 * host, NVDIMM support with free memory slots, hot-pluggable vCPUs; cold-plugged disks on pcie.0 from
 * slot 8 on. With `iommu`, Kata's vIOMMU: `intel-iommu` with interrupt remapping and caching mode (Kata
 * also sets device-iotlb, which only ATS-capable devices use) before every PCI device, and the split
 * irqchip interrupt remapping needs. Nothing is read from a user config, nothing is written back, and
 * the guest never reboots: its power-off, or a panic, ends QEMU.
 */
export function qemuArguments(layout: VmLayout): string[] {
  const disks = layout.disks.flatMap((file, i) => [
    "-drive",
    `if=none,id=disk${i},file=${escapeOption(file)},format=raw,cache=none,aio=threads`,
    "-device",
    `virtio-blk-pci,id=blk${i},drive=disk${i},bus=pcie.0,addr=${(8 + i).toString(16)}`,
  ]);
  return [
    "-name",
    "berth-vm",
    "-machine",
    `q35,accel=tcg,nvdimm=on${layout.iommu ? ",kernel-irqchip=split" : ""}`,
    "-cpu",
    "max",
    "-smp",
    `${layout.cpus},maxcpus=${layout.maxCpus},sockets=${layout.maxCpus},cores=1,threads=1`,
    "-m",
    `${layout.memoryMiB}M,slots=4,maxmem=${layout.maxMemoryMiB}M`,
    "-nodefaults",
    "-nographic",
    "-no-user-config",
    "-no-reboot",
    "-kernel",
    layout.kernel,
    "-initrd",
    layout.initrd,
    "-append",
    kernelCommandLine(layout),
    "-chardev",
    `file,id=console,path=${escapeOption(layout.log)},append=on`,
    "-serial",
    "chardev:console",
    "-qmp",
    `unix:${escapeOption(layout.qmpSocket)},server=on,wait=off`,
    ...(layout.iommu ? ["-device", "intel-iommu,intremap=on,caching-mode=on"] : []),
    "-device",
    "pci-bridge,bus=pcie.0,id=pci-bridge-0,chassis_nr=1,shpc=off,addr=2,io-reserve=4k,mem-reserve=1m,pref64-reserve=1m",
    "-device",
    "pcie-root-port,id=rp0,bus=pcie.0,chassis=0,slot=0,addr=1",
    "-device",
    "virtio-serial-pci,id=serial0,bus=pcie.0,addr=3",
    "-chardev",
    `socket,id=agent,path=${escapeOption(layout.portSocket)},server=on,wait=off`,
    "-device",
    `virtserialport,bus=serial0.0,chardev=agent,name=${AGENT_PORT_NAME}`,
    "-device",
    "virtio-scsi-pci,id=scsi0,bus=pcie.0,addr=4",
    "-fsdev",
    `local,id=share,path=${escapeOption(layout.share)},security_model=none,multidevs=remap`,
    "-device",
    `virtio-9p-pci,fsdev=share,mount_tag=${SHARE_TAG},bus=pcie.0,addr=5`,
    "-device",
    "virtio-rng-pci,id=rng0,bus=pcie.0,addr=6",
    ...disks,
  ];
}

/** A value inside a QEMU option list: commas are doubled. */
function escapeOption(value: string): string {
  return value.replaceAll(",", ",,");
}
