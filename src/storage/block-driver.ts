import { stat } from "node:fs/promises";
import { type BlockContext, mmioBlkAt, pmemAt, scsiDiskAt, virtioBlkAt } from "../device/block-devices.js";
import { parsePciPath } from "../device/pci-path.js";
import { AgentError, Code } from "../errors.js";
import type { StorageDriver } from "./storage-driver.js";
import { kernelOptions } from "./storage-options.js";
import { checkedPath } from "./storage-paths.js";
import type { StorageSpec } from "./storage-spec.js";
import { errnoOf, mountStorage } from "./storage-steps.js";

/** How each driver's `source` names its disk, and how the disk is found (waiting for its hotplug). */
const ADDRESSES: Readonly<
  Record<
    string,
    { names: string; check(source: string): void; find(ctx: BlockContext, source: string): Promise<string> }
  >
> = {
  blk: {
    names: "a PCI path or a /dev path",
    check: (source) => void (isDevPath(source) ? checkedPath("device", source) : parsePciPath(source)),
    find: (ctx, source) => (isDevPath(source) ? Promise.resolve(source) : virtioBlkAt(ctx, source)),
  },
  mmioblk: { names: "a /dev path", check: devPathOnly, find: mmioBlkAt },
  scsi: {
    names: "a SCSI address <target>:<lun>",
    check: (source) => void (isDevPath(source) ? checkedPath("device", source) : undefined),
    find: (ctx, source) => (isDevPath(source) ? Promise.resolve(source) : scsiDiskAt(ctx, source)),
  },
  nvdimm: { names: "a /dev/pmem path", check: devPathOnly, find: pmemAt },
};

const isDevPath = (source: string) => source.startsWith("/dev/");

function devPathOnly(source: string): void {
  if (!isDevPath(source)) throw new AgentError(Code.INVALID_ARGUMENT, "it must be a /dev path");
  checkedPath("device", source);
}

function describe(storage: StorageSpec): string {
  return `${storage.driver} storage ${JSON.stringify(storage.source)} for ${storage.mountPoint}`;
}

/**
 * `blk`, `mmioblk`, `scsi`, `nvdimm`: a filesystem on a guest block device, mounted with `fstype` and
 * `options`, then given the storage's fsGroup. The disk is named as the host names it (a PCI path, a SCSI
 * address, a /dev path) and waited for until the guest has it (agent.hotplug_timeout); one that is there
 * already (cold-plugged) is found at once.
 */
export const blockDriver: StorageDriver = {
  names: Object.keys(ADDRESSES),
  check(storage) {
    const address = ADDRESSES[storage.driver];
    try {
      address?.check(storage.source);
    } catch (error) {
      throw AgentError.wrap(error, `${describe(storage)}: the source must be ${address?.names}`);
    }
    if (!storage.fstype)
      throw new AgentError(Code.INVALID_ARGUMENT, `${describe(storage)}: it has no fstype`);
  },
  async setup(ctx) {
    const { storage } = ctx;
    const address = ADDRESSES[storage.driver];
    if (!address) throw new AgentError(Code.INVALID_ARGUMENT, `${describe(storage)}: unknown block driver`);
    const device = await address.find(ctx.devices, storage.source).catch((error: unknown) => {
      throw AgentError.wrap(error, describe(storage));
    });
    const info = await stat(device).catch((error: unknown) => {
      if (errnoOf(error) !== "ENOENT") throw error;
      throw new AgentError(Code.NOT_FOUND, `${describe(storage)}: ${device} does not exist`, {
        cause: error,
      });
    });
    if (!info.isBlockDevice()) {
      throw new AgentError(Code.INVALID_ARGUMENT, `${describe(storage)}: ${device} is not a block device`);
    }
    await mountStorage(ctx, device, storage.fstype, kernelOptions(storage.options));
  },
};
