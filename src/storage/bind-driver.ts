import { stat } from "node:fs/promises";
import { AgentError, Code } from "../errors.js";
import { mount } from "../sys/mount.js";
import { applyFsGroup } from "./fs-group.js";
import type { StorageDriver } from "./storage-driver.js";
import { hasOption, kernelOptions } from "./storage-options.js";
import { checkedPath } from "./storage-paths.js";
import { errnoOf, makeDir, makeFile, mountOn } from "./storage-steps.js";

/**
 * `bind`: bind-mounts a guest path (`source`) on the mount point, created as a directory or an empty file
 * to match the source. `rbind` binds recursively; other flags (`ro`, `nosuid`, …) apply through a remount,
 * since the kernel ignores them on the bind itself.
 */
export const bindDriver: StorageDriver = {
  names: ["bind"],
  check(storage) {
    checkedPath("bind source", storage.source);
  },
  async setup(ctx) {
    const { storage, mountPoint, undo, log } = ctx;
    const source = checkedPath("bind source", storage.source);
    const isDir = await stat(source).then(
      (s) => s.isDirectory(),
      (error: unknown) => {
        if (errnoOf(error) !== "ENOENT") throw error;
        throw new AgentError(Code.NOT_FOUND, `bind source ${JSON.stringify(source)} does not exist`, {
          cause: error,
        });
      },
    );
    await (isDir ? makeDir : makeFile)(undo, log, mountPoint);
    const recursive = hasOption(storage.options, "rbind");
    const target = await mountOn(ctx, source, mountPoint, "", [recursive ? "rbind" : "bind"]);
    const flags = kernelOptions(storage.options).filter((o) => o !== "bind" && o !== "rbind");
    if (flags.length > 0) await mount("", target, "", ["remount", "bind", ...flags]);
    await applyFsGroup(target, storage.fsGroup, hasOption(storage.options, "ro"), log);
  },
};
