import { escapeRegExp } from "./escape-regexp.js";
import type { SysfsDevices } from "./sysfs-devices.js";
import type { Uevent } from "./uevent.js";

/**
 * What a wait for a device is for: which uevent announces it, and how to find it in sysfs when it is there
 * already. Kata's matchers (uevent.rs), with the sysfs half they lack.
 */
export interface DeviceMatcher {
  /** Names what is awaited, in errors and logs. */
  readonly description: string;
  matches(event: Uevent): boolean;
  /** The device's event as sysfs would replay it, when it is present now. */
  present(sysfs: SysfsDevices): Promise<Uevent | undefined>;
}

const VIRTIO = /^virtio[0-9]+$/;
const ANY = /^[^/]+$/;

async function firstPresent(sysfs: SysfsDevices, devpaths: readonly string[]) {
  for (const devpath of devpaths) {
    const event = await sysfs.device(devpath);
    if (event) return event;
  }
  return undefined;
}

/** The whole disk (never a partition) of the virtio-blk function at `pci` (a PCI function's devpath). */
export function virtioBlkPci(pci: string, shown: string): DeviceMatcher {
  const pattern = new RegExp(`^${escapeRegExp(pci)}/virtio[0-9]+/block/[^/]+$`);
  return {
    description: `the virtio-blk disk at PCI path ${shown} (${pci})`,
    matches: (e) =>
      e.action === "add" && e.subsystem === "block" && e.devname !== "" && pattern.test(e.devpath),
    async present(sysfs) {
      const disks: string[] = [];
      for (const virtio of await sysfs.children(pci, VIRTIO)) {
        const block = `${pci}/${virtio}/block`;
        for (const disk of await sysfs.children(block, ANY)) disks.push(`${block}/${disk}`);
      }
      return firstPresent(sysfs, disks);
    },
  };
}

/** A block device the kernel names `name` ("vdb", "pmem0"); `under` restricts where its devpath starts. */
export function blockNamed(name: string, what: string, under = "/devices/"): DeviceMatcher {
  const suffix = `/block/${name}`;
  return {
    description: `${what} ${name}`,
    matches: (e) =>
      e.action === "add" &&
      e.subsystem === "block" &&
      e.devname === name &&
      e.devpath.startsWith(under) &&
      e.devpath.endsWith(suffix),
    async present(sysfs) {
      const devpath = await sysfs.classDevice("block", name);
      if (!devpath?.startsWith(under) || !devpath.endsWith(suffix)) return undefined;
      return sysfs.device(devpath);
    },
  };
}

/** Where the kernel puts NVDIMM regions (ACPI NFIT). */
export const PMEM_DEVPATH_PREFIX = "/devices/LNXSYSTM";

/**
 * The SCSI disk at target `id`, LUN `lun` of a virtio-scsi host, channel 0. Kata matches host 0 only; any
 * virtio-scsi host is taken here, so an emulated controller that took host0 first cannot hide the disk.
 */
export function scsiDisk(id: number, lun: number): DeviceMatcher {
  const pattern = new RegExp(
    `/virtio[0-9]+/host([0-9]+)/target\\1:0:${id}/\\1:0:${id}:${lun}/block/([^/]+)$`,
  );
  return {
    description: `the SCSI disk at ${id}:${lun}`,
    matches(e) {
      const match = pattern.exec(e.devpath);
      return e.action === "add" && e.subsystem === "block" && e.devname !== "" && match?.[2] === e.devname;
    },
    async present(sysfs) {
      for (const host of await sysfs.classNames("scsi_host")) {
        const hostPath = await sysfs.classDevice("scsi_host", host);
        const hostDir = hostPath?.replace(/\/scsi_host\/[^/]+$/, "");
        const number = /^host([0-9]+)$/.exec(host)?.[1];
        if (!hostDir || number === undefined || !/\/virtio[0-9]+\/host[0-9]+$/.test(hostDir)) continue;
        const block = `${hostDir}/target${number}:0:${id}/${number}:0:${id}:${lun}/block`;
        const [disk] = await sysfs.children(block, ANY);
        if (disk) return sysfs.device(`${block}/${disk}`);
      }
      return undefined;
    },
  };
}

/** The PCI function itself (any subsystem: the PCI core's own event). */
export function pciFunction(pci: string, shown: string): DeviceMatcher {
  return {
    description: `the PCI function at PCI path ${shown} (${pci})`,
    matches: (e) => e.action === "add" && e.devpath === pci,
    present: (sysfs) => sysfs.device(pci),
  };
}

/** The VFIO group node `/dev/vfio/<group>`. */
export function vfioGroup(group: string): DeviceMatcher {
  const devpath = `/devices/virtual/vfio/${group}`;
  return {
    description: `the VFIO group ${group}`,
    matches: (e) => e.action === "add" && e.devpath === devpath,
    present: (sysfs) => sysfs.device(devpath),
  };
}

/** A network interface of the NIC at `pci` (its own `net/` or its virtio device's). */
export function netInterface(pci: string, shown: string): DeviceMatcher {
  return {
    description: `the network interface of the NIC at PCI path ${shown} (${pci})`,
    matches: (e) =>
      e.action === "add" && e.subsystem === "net" && e.interface !== "" && e.devpath.startsWith(`${pci}/`),
    async present(sysfs) {
      const dirs = [`${pci}/net`, ...(await sysfs.children(pci, VIRTIO)).map((v) => `${pci}/${v}/net`)];
      for (const dir of dirs) {
        const [name] = await sysfs.children(dir, ANY);
        if (name) return sysfs.device(`${dir}/${name}`);
      }
      return undefined;
    },
  };
}
