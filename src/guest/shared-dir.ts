import { constants } from "node:fs";
import { mkdir } from "node:fs/promises";
import { relative } from "node:path";
import { type AgentPaths, sharedContainersDir } from "../config/agent-paths.js";
import { AgentError, Code } from "../errors.js";
import { closeFd, mkdirAt, openBeneath, openTrustedDirectory } from "../sys/beneath.js";
import { hasErrno } from "../sys/errno.js";
import { native } from "../sys/native.js";

const directoryPath = () => native().constants.O_PATH | constants.O_DIRECTORY;

/**
 * Opens the shared directory CopyFile writes under, making it first if it is missing. The run dir is
 * configuration, trusted; the components from it to the shared directory may not be symlinks, so a share
 * mounted above the shared directory cannot move the root itself.
 */
export async function openSharedDir(paths: AgentPaths): Promise<number> {
  const dir = sharedContainersDir(paths);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const runDir = await openTrustedDirectory(paths.runDir, constants.O_DIRECTORY);
  try {
    return await openBeneath(runDir, relative(paths.runDir, dir), directoryPath(), { noSymlinks: true });
  } finally {
    await closeFd(runDir);
  }
}

async function openIfPresent(rootFd: number, path: string): Promise<number | undefined> {
  try {
    return await openBeneath(rootFd, path, directoryPath());
  } catch (error) {
    if (hasErrno(error, "ENOENT")) return undefined;
    throw error;
  }
}

/**
 * An O_PATH fd of the directory `parents` names below `rootFd`, resolved by the kernel beneath it: symlinks
 * that stay inside are followed, any that leads out fails. With `createMode`, missing directories are made
 * one at a time (mkdirat in the directory resolved so far, with that mode less the umask, owned by the
 * agent); directories that exist keep their mode and owner (Kata used to chmod them: kata-containers#6367).
 */
export async function openParent(
  rootFd: number,
  parents: readonly string[],
  createMode?: number,
): Promise<number> {
  const whole = await openIfPresent(rootFd, parents.join("/") || ".");
  if (whole !== undefined) return whole;
  if (createMode === undefined) {
    throw new AgentError(Code.NOT_FOUND, `directory ${JSON.stringify(parents.join("/"))} does not exist`);
  }
  let dirFd = await openBeneath(rootFd, ".", directoryPath());
  try {
    for (const [i, name] of parents.entries()) {
      const prefix = parents.slice(0, i + 1).join("/");
      let next = await openIfPresent(rootFd, prefix);
      if (next === undefined) {
        await mkdirAt(dirFd, name, createMode).catch((error: unknown) => {
          if (!hasErrno(error, "EEXIST")) throw error;
        });
        next = await openBeneath(rootFd, prefix, directoryPath());
      }
      await closeFd(dirFd);
      dirFd = next;
    }
    return dirFd;
  } catch (error) {
    await closeFd(dirFd);
    throw error;
  }
}
