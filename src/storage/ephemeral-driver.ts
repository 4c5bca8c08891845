import { setGroupAndSetgid } from "./fs-group.js";
import { allocateHugepages } from "./hugepages.js";
import type { StorageDriver } from "./storage-driver.js";
import { hugepageRequest, kernelOptions, parseFsGid } from "./storage-options.js";
import { mountStorage } from "./storage-steps.js";

/**
 * `ephemeral`: a filesystem that lives in guest memory (tmpfs for emptyDir medium Memory and the sandbox's
 * shm; hugetlbfs for hugepages). hugetlbfs first grows the hugepage pool (`pagesize=`, `size=` in bytes).
 * `fsgid=N` gives the root that group plus setgid. Other options go to the mount, where Kata drops them.
 */
export const ephemeralDriver: StorageDriver = {
  names: ["ephemeral"],
  check(storage) {
    parseFsGid(storage.options);
    if (storage.fstype === "hugetlbfs") hugepageRequest(storage.options);
  },
  async setup(ctx) {
    const { storage, mountPoint } = ctx;
    const fsType = storage.fstype || "tmpfs";
    const source = storage.source || fsType;
    if (fsType === "hugetlbfs") await allocateHugepages(ctx.sysfs, hugepageRequest(storage.options), ctx.log);
    await mountStorage(ctx, source, fsType, kernelOptions(storage.options, ["fsgid"]));
    const gid = parseFsGid(storage.options);
    if (gid !== undefined) await setGroupAndSetgid(mountPoint, gid);
  },
};
