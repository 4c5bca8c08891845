import { readdir } from "node:fs/promises";
import { basename, posix } from "node:path";
import { AgentError, Code } from "../errors.js";
import { pathExists } from "../sys/path-exists.js";
import { writeKernelFile } from "../sys/write-kernel-file.js";
import type { DeviceContext } from "./device-spec.js";
import { blockNamed, PMEM_DEVPATH_PREFIX, scsiDisk, virtioBlkPci } from "./matchers.js";
import { formatPciPath, type PciPath, parsePciPath, resolvePciPath } from "./pci-path.js";

/** What finding a block device needs (a DeviceContext without its logger). */
export type BlockContext = Omit<DeviceContext, "log">;

/** `/dev/<name>` of the virtio-blk disk at a PCI path ("02/01"), once the guest has it. */
export async function virtioBlkAt(ctx: BlockContext, path: string | PciPath): Promise<string> {
  const parsed = typeof path === "string" ? parsePciPath(path) : path;
  const pci = await resolvePciPath(ctx.sysfs, parsed);
  const event = await ctx.devices.waitFor(virtioBlkPci(pci.devpath, formatPciPath(parsed)), ctx);
  return `/dev/${event.devname}`;
}

/** `vmPath` ("/dev/vdb"): at once when the node is there, else once the guest has that virtio-mmio disk. */
export async function mmioBlkAt(ctx: BlockContext, vmPath: string): Promise<string> {
  const name = devName(vmPath, "virtio-mmio disk");
  if (!(await pathExists(vmPath))) await ctx.devices.waitFor(blockNamed(name, "the virtio-mmio disk"), ctx);
  return vmPath;
}

/** `vmPath` ("/dev/pmem0"): at once when the node is there, else once the guest has that NVDIMM namespace. */
export async function pmemAt(ctx: BlockContext, vmPath: string): Promise<string> {
  const name = devName(vmPath, "pmem device");
  if (!(await pathExists(vmPath))) {
    await ctx.devices.waitFor(blockNamed(name, "the pmem device", PMEM_DEVPATH_PREFIX), ctx);
  }
  return vmPath;
}

const SCSI_ADDRESS = /^([0-9]{1,5}):([0-9]{1,5})$/;

/**
 * `/dev/<name>` of the SCSI disk at "<target>:<lun>": every SCSI host is asked to scan that target and
 * LUN first (Kata boots with `scsi_mod.scan=none`, so nothing is found until asked), then it is awaited.
 */
export async function scsiDiskAt(ctx: BlockContext, address: string): Promise<string> {
  const match = SCSI_ADDRESS.exec(address);
  const id = Number(match?.[1]);
  const lun = Number(match?.[2]);
  if (!match || id > 65535 || lun > 16383) {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      `SCSI address ${JSON.stringify(address)} is not <target>:<lun>`,
    );
  }
  await scanScsiHosts(ctx.sysfs, id, lun);
  const event = await ctx.devices.waitFor(scsiDisk(id, lun), ctx);
  return `/dev/${event.devname}`;
}

async function scanScsiHosts(sysfs: string, id: number, lun: number): Promise<void> {
  const hosts = await readdir(`${sysfs}/class/scsi_host`).catch((): string[] => []);
  await Promise.all(
    hosts.map((host) =>
      writeKernelFile(`${sysfs}/class/scsi_host/${host}/scan`, `0 ${id} ${lun}`).catch(() => {}),
    ),
  );
}

function devName(vmPath: string, what: string): string {
  if (!vmPath.startsWith("/dev/") || posix.normalize(vmPath) !== vmPath || vmPath.slice(5).includes("/")) {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      `${what} vm_path ${JSON.stringify(vmPath)} is not a path under /dev/`,
    );
  }
  return basename(vmPath);
}
