import { realpath } from "node:fs/promises";
import { currentMounts } from "../sys/mount.js";
import type { StorageContext, StorageDriver } from "./storage-driver.js";
import { kernelOptions } from "./storage-options.js";
import type { StorageSpec } from "./storage-spec.js";
import { mountStorage } from "./storage-steps.js";

/** Whether the top mount at the mount point is already this filesystem (Kata: `kataShared` mounted early). */
async function alreadyMounted(mountPoint: string, source: string, fsType: string): Promise<boolean> {
  const resolved = await realpath(mountPoint).catch(() => mountPoint);
  const top = (await currentMounts()).filter((m) => m.mountPoint === resolved).at(-1);
  return top !== undefined && top.source === source && top.fsType === fsType;
}

function sharedFsDriver(name: string, defaultFsType: string): StorageDriver {
  const fsTypeOf = (storage: StorageSpec) => storage.fstype || defaultFsType;
  return {
    names: [name],
    check() {},
    async setup(ctx: StorageContext) {
      const { storage, mountPoint } = ctx;
      if (await alreadyMounted(mountPoint, storage.source, fsTypeOf(storage))) {
        // Not ours to unmount later either: nothing is pushed on the undo stack.
        ctx.log.info({ source: storage.source, mountPoint }, "shared filesystem already mounted; using it");
        return;
      }
      await mountStorage(ctx, storage.source, fsTypeOf(storage), kernelOptions(storage.options));
    },
  };
}

/** `virtio-fs`: the host directory shared over virtio-fs, by tag (`source`). */
export const virtioFsDriver = sharedFsDriver("virtio-fs", "virtiofs");

/** `9p`: the host directory shared over virtio-9p, by tag (removed from Kata 3.29, still sent by older runtimes). */
export const ninePDriver = sharedFsDriver("9p", "9p");
