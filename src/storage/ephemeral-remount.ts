import { AgentError, Code } from "../errors.js";
import { isFlagOption } from "../sys/mount-options.js";
import type { MountInfo } from "../sys/mountinfo.js";
import { kernelOptions, optionValue } from "./storage-options.js";
import type { StorageSpec } from "./storage-spec.js";

/** What one entry of UpdateEphemeralMounts asks to change: mount flags and tmpfs's size. */
export interface RemountRequest {
  mountPoint: string;
  flags: string[];
  size: string | undefined;
}

/** tmpfs's `size=`: bytes with an optional k/m/g/t/p/e suffix, or a percentage of memory. */
const TMPFS_SIZE = /^\d{1,20}[kmgtpe%]?$/i;

/**
 * What UpdateEphemeralMounts may do to an entry, checked before anything is remounted: the `ephemeral`
 * driver only (Kata's words otherwise), `fsgid=` and Kata's own options dropped (the group was set at
 * setup, as Kata assumes), `remount` implied, mount flags and `size=` kept. Anything else (data options,
 * bind, propagation) is INVALID_ARGUMENT. Undefined when the entry changes nothing.
 */
export function remountRequest(storage: StorageSpec): RemountRequest | undefined {
  if (storage.driver !== "ephemeral") {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      `Unsupported storage type for syncing mounts ${storage.driver}. Only ephemeral storage update is supported`,
    );
  }
  const flags: string[] = [];
  let size: string | undefined;
  for (const option of kernelOptions(storage.options, ["fsgid"])) {
    const value = option.startsWith("size=") ? option.slice("size=".length) : undefined;
    if (value !== undefined && TMPFS_SIZE.test(value)) size = value;
    else if (option === "remount") continue;
    else if (isFlagOption(option) && option !== "bind" && option !== "rbind") flags.push(option);
    else {
      throw new AgentError(
        Code.INVALID_ARGUMENT,
        `UpdateEphemeralMounts ${JSON.stringify(storage.mountPoint)}: it changes mount flags and size= only, not ${JSON.stringify(option)}`,
      );
    }
  }
  return flags.length === 0 && size === undefined
    ? undefined
    : { mountPoint: storage.mountPoint, flags, size };
}

/** The two remounts of one entry: the change, and the one that puts the mount back as it was. */
export interface RemountPlan {
  target: string;
  source: string;
  fsType: string;
  apply: string[];
  undo: string[];
}

/**
 * The remount of `mount` (an ephemeral storage of type `fsType`, as mountinfo shows it now) that `request`
 * asks for, and its undo. The mount's own flags come first: a bare MS_REMOUNT would clear its nosuid,
 * nodev and noexec, as Kata's agent does. FAILED_PRECONDITION for a size on hugetlbfs, whose remount
 * ignores it, and for a mount point where something other than the storage is mounted now.
 */
export function remountPlan(
  request: RemountRequest,
  mount: MountInfo | undefined,
  fsType: string,
): RemountPlan {
  const where = `UpdateEphemeralMounts ${JSON.stringify(request.mountPoint)}`;
  if (mount?.fsType !== fsType) {
    throw new AgentError(
      Code.FAILED_PRECONDITION,
      `${where}: the storage's ${fsType} is not what is mounted there (${mount ? mount.fsType : "nothing"})`,
    );
  }
  if (fsType === "hugetlbfs" && request.size !== undefined) {
    throw new AgentError(
      Code.FAILED_PRECONDITION,
      `${where}: a hugetlbfs cannot be resized by a remount (the kernel ignores the new size)`,
    );
  }
  const own = mount.options.split(",").filter(isFlagOption);
  const before = optionValue(mount.superOptions.split(","), "size");
  const sizeNow = request.size === undefined ? [] : [`size=${request.size}`];
  const sizeBefore = request.size === undefined || before === undefined ? [] : [`size=${before}`];
  return {
    target: mount.mountPoint,
    source: mount.source,
    fsType,
    apply: [...own, "remount", ...request.flags, ...sizeNow],
    undo: [...own, "remount", ...sizeBefore],
  };
}
