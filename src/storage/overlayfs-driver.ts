import { mkdir, rm } from "node:fs/promises";
import { bundlePaths } from "../bundle/bundle-paths.js";
import { AgentError, Code } from "../errors.js";
import type { StorageContext, StorageDriver } from "./storage-driver.js";
import { hasOption, kernelOptions, optionValue } from "./storage-options.js";
import { checkedPath } from "./storage-paths.js";
import { errnoOf, makeDir, mountStorage } from "./storage-steps.js";

/** Asks for a writable overlay whose upper and work directories the agent makes, per container. */
export const OVERLAY_RW_OPTION = "io.katacontainers.fs-opt.overlay-rw";

async function makeWritableLayer(ctx: StorageContext): Promise<string[]> {
  if (ctx.containerId === undefined) {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      `overlayfs storage on ${ctx.mountPoint}: ${OVERLAY_RW_OPTION} needs a container, not a sandbox storage`,
    );
  }
  const { dir, upper, work } = bundlePaths(ctx.paths, ctx.containerId);
  await makeDir(ctx.undo, ctx.log, dir);
  for (const layerDir of [upper, work]) {
    await mkdir(layerDir, { mode: 0o755 }).catch((error: unknown) => {
      if (errnoOf(error) !== "EEXIST") throw error;
      throw new AgentError(Code.ALREADY_EXISTS, `overlay directory ${layerDir} is already in use`, {
        cause: error,
      });
    });
    ctx.undo.push(`remove ${layerDir}`, () => rm(layerDir, { recursive: true, force: true }));
  }
  return [`upperdir=${upper}`, `workdir=${work}`];
}

/**
 * `overlayfs`: an overlay of `lowerdir=` (and, if given, `upperdir=`/`workdir=`). With
 * `io.katacontainers.fs-opt.overlay-rw` the agent makes a fresh upper and work directory under
 * `<runDir>/<cid>/`, removed with the storage.
 */
export const overlayfsDriver: StorageDriver = {
  names: ["overlayfs"],
  check(storage) {
    const lower = optionValue(storage.options, "lowerdir");
    if (!lower)
      throw new AgentError(
        Code.INVALID_ARGUMENT,
        `overlayfs storage on ${storage.mountPoint} has no lowerdir=`,
      );
    for (const dir of lower.split(":")) checkedPath("overlay lowerdir", dir);
    const rw = hasOption(storage.options, OVERLAY_RW_OPTION);
    for (const key of ["upperdir", "workdir"]) {
      const dir = optionValue(storage.options, key);
      if (dir === undefined) continue;
      if (rw) {
        throw new AgentError(
          Code.INVALID_ARGUMENT,
          `overlayfs storage: ${key}= conflicts with ${OVERLAY_RW_OPTION}`,
        );
      }
      checkedPath(`overlay ${key}`, dir);
    }
  },
  async setup(ctx) {
    const { storage } = ctx;
    const rw = hasOption(storage.options, OVERLAY_RW_OPTION);
    const options = kernelOptions(storage.options);
    if (rw) options.push(...(await makeWritableLayer(ctx)));
    await mountStorage(
      ctx,
      storage.source || "overlay",
      rw ? "overlay" : storage.fstype || "overlay",
      options,
    );
  },
};
