import { stat } from "node:fs/promises";
import { AgentError, Code } from "../errors.js";
import type { StorageDriver } from "./storage-driver.js";
import { kernelOptions } from "./storage-options.js";
import { checkedPath } from "./storage-paths.js";
import { errnoOf, mountStorage } from "./storage-steps.js";

/** What each driver's `source` names when it is not a /dev path (Kata waits for the device to appear). */
const ADDRESS_KIND: Readonly<Record<string, string>> = {
  blk: "a PCI path",
  mmioblk: "a virtio-mmio device name",
  scsi: "a SCSI address",
  nvdimm: "a pmem device name",
};

/**
 * `blk`, `mmioblk`, `scsi`, `nvdimm`: a filesystem on a guest block device, mounted with `fstype` and
 * `options`. Only `/dev/...` sources for now: finding the device for a PCI path, SCSI address or pmem
 * name comes with device hotplug support.
 */
export const blockDriver: StorageDriver = {
  names: Object.keys(ADDRESS_KIND),
  check(storage) {
    if (!storage.source.startsWith("/dev/")) {
      throw new AgentError(
        Code.UNIMPLEMENTED,
        `${storage.driver} storage source ${JSON.stringify(storage.source)} is not a /dev path: resolving ` +
          `${ADDRESS_KIND[storage.driver] ?? "a device address"} comes with device hotplug support; pass a /dev path`,
      );
    }
    checkedPath("device", storage.source);
    if (!storage.fstype) {
      throw new AgentError(
        Code.INVALID_ARGUMENT,
        `${storage.driver} storage on ${storage.source} has no fstype`,
      );
    }
  },
  async setup(ctx) {
    const { storage } = ctx;
    const device = checkedPath("device", storage.source);
    const info = await stat(device).catch((error: unknown) => {
      if (errnoOf(error) !== "ENOENT") throw error;
      throw new AgentError(Code.NOT_FOUND, `device ${JSON.stringify(device)} does not exist`, {
        cause: error,
      });
    });
    if (!info.isBlockDevice()) {
      throw new AgentError(Code.INVALID_ARGUMENT, `${JSON.stringify(device)} is not a block device`);
    }
    await mountStorage(ctx, device, storage.fstype, kernelOptions(storage.options));
  },
};
