import { AgentError } from "../errors.js";
import { MountFlag, parseMountOptions } from "./mount-options.js";
import { mountTable } from "./mount-table.js";
import type { MountInfo } from "./mountinfo.js";
import { native } from "./native.js";

/** umount2(2) flags. */
export const UnmountFlag = { FORCE: 1, DETACH: 2 } as const;

/** Mounts `source` on `target` with mount(8)-style options (flags, propagation and filesystem data). */
export async function mount(source: string, target: string, fsType: string, options: readonly string[] = []) {
  const { flags, propagation, data } = parseMountOptions(options);
  const what = `mount ${JSON.stringify(source)} on ${JSON.stringify(target)} (type ${fsType || "none"}, options ${JSON.stringify(options.join(","))})`;
  try {
    await native().mount(source, target, fsType || null, flags, data || null);
    for (const p of propagation) await native().mount(null, target, null, p, null);
  } catch (error) {
    throw AgentError.wrap(error, `cannot ${what}`);
  }
}

/** Bind-mounts `source` on `target`; read-only needs a second, remounting call. */
export async function bindMount(
  source: string,
  target: string,
  opts: { readonly?: boolean; recursive?: boolean } = {},
) {
  const flags = MountFlag.BIND | (opts.recursive ? MountFlag.REC : 0);
  try {
    await native().mount(source, target, null, flags, null);
    if (opts.readonly) {
      await native().mount(null, target, null, flags | MountFlag.REMOUNT | MountFlag.RDONLY, null);
    }
  } catch (error) {
    throw AgentError.wrap(error, `cannot bind-mount ${JSON.stringify(source)} on ${JSON.stringify(target)}`);
  }
}

/** Unmounts `target`; `flags` from UnmountFlag (DETACH for a lazy unmount). */
export async function unmount(target: string, flags = 0) {
  try {
    await native().umount(target, flags);
  } catch (error) {
    throw AgentError.wrap(error, `cannot unmount ${JSON.stringify(target)}`);
  }
}

/** This process's mounts, from /proc/self/mountinfo (read again only once the table changed). */
export function currentMounts(): Promise<readonly MountInfo[]> {
  return mountTable("/proc/self/mountinfo").mounts();
}

/** Whether something is mounted exactly at `path` (compare with a resolved, absolute path). */
export async function isMountPoint(path: string): Promise<boolean> {
  return (await currentMounts()).some((m) => m.mountPoint === path);
}

/** Whether the root filesystem is an initramfs, where pivot_root cannot work (runc must use --no-pivot). */
export async function rootIsInitramfs(): Promise<boolean> {
  const root = (await currentMounts()).filter((m) => m.mountPoint === "/").at(-1);
  return root?.fsType === "rootfs";
}
