import type { MountInfo } from "../sys/mountinfo.js";

/** The directories a dead agent may have left mounts beneath, and the storages it recorded. */
export interface ReclaimRoots {
  /** Directories berth owns: mounts strictly beneath them are berth's (bundles, shares, namespace files). */
  readonly owned: readonly string[];
  /** Mount points berth recorded for its storages, wherever they are. */
  readonly recorded: readonly string[];
}

const beneath = (path: string, dir: string) => path.startsWith(dir.endsWith("/") ? dir : `${dir}/`);

/**
 * The mounts to undo, in the order to undo them: every mount strictly beneath an owned directory or at a
 * recorded mount point, or beneath one, newest first (the kernel lists mounts in the order they were made,
 * so a mount on top of another, or inside it, comes later): each unmount takes the top one.
 */
export function mountsToReclaim(mounts: readonly MountInfo[], roots: ReclaimRoots): MountInfo[] {
  const recorded = new Set(roots.recorded);
  const ours = (m: MountInfo) =>
    roots.owned.some((dir) => beneath(m.mountPoint, dir)) ||
    recorded.has(m.mountPoint) ||
    roots.recorded.some((point) => beneath(m.mountPoint, point));
  return mounts.filter(ours).reverse();
}

/** Whether any of `mounts` is at `path` or beneath it: such a directory must not be removed. */
export function holdsMount(mounts: readonly MountInfo[], path: string): boolean {
  return mounts.some((m) => m.mountPoint === path || beneath(m.mountPoint, path));
}

/** Whether `argv` is a runc call on the state directory `root` (`--root ROOT` or `--root=ROOT`). */
export function runsOnRoot(argv: readonly string[], root: string): boolean {
  return argv.some((arg, i) => (arg === "--root" && argv[i + 1] === root) || arg === `--root=${root}`);
}
