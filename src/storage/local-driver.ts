import { chmod } from "node:fs/promises";
import { setGroupAndSetgid } from "./fs-group.js";
import type { StorageDriver } from "./storage-driver.js";
import { parseFsGid, parseMode } from "./storage-options.js";
import { makeDir } from "./storage-steps.js";

/**
 * `local`: a directory inside the guest (Kubernetes emptyDir on disk), no mount. Options `mode=0NNN`
 * (octal) and `fsgid=N` (group, plus setgid). Released, the directory goes only if empty: Kata never
 * removes it, and an emptyDir's data must outlive a container restart.
 */
export const localDriver: StorageDriver = {
  names: ["local"],
  check(storage) {
    parseMode(storage.options);
    parseFsGid(storage.options);
  },
  async setup({ storage, mountPoint, undo, log }) {
    await makeDir(undo, log, mountPoint);
    const mode = parseMode(storage.options);
    const gid = parseFsGid(storage.options);
    if (mode !== undefined) await chmod(mountPoint, mode);
    if (gid !== undefined) await setGroupAndSetgid(mountPoint, gid);
    log.info({ mountPoint, mode: mode?.toString(8), fsgid: gid }, "local storage created");
  },
};
