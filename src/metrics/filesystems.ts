import type { StatsFs } from "node:fs";
import type { MountInfo } from "../sys/mountinfo.js";
import type { Item } from "./proc-files.js";

/** The filesystem types whose usage Kata exports: those that hold a guest's or a container's data. */
const MEASURED_TYPES = new Set(["ext4", "xfs", "btrfs", "vfat", "overlay"]);

/** A filesystem to measure: where it is mounted, and the `device` label. */
export interface MeasuredFilesystem {
  mount: string;
  device: string;
}

/**
 * The mounts kata_guest_filesystem_* cover, as in Kata: a measured type, writable (no "ro" in the
 * superblock's options, which would never change), and only the first mount of each device (bind mounts
 * of one filesystem would repeat it). The device is the last part of the source ("/dev/vda1" → "vda1"),
 * or major:minor when the source has none. Unlike Kata, a mount hidden by a later one on the same mount
 * point is not measured: statfs of that path measures the one on top.
 */
export function measuredFilesystems(mounts: readonly MountInfo[]): MeasuredFilesystem[] {
  const visible = new Map<string, MountInfo>();
  for (const m of mounts) visible.set(m.mountPoint, m);
  const seen = new Set<string>();
  const measured: MeasuredFilesystem[] = [];
  for (const m of visible.values()) {
    if (!MEASURED_TYPES.has(m.fsType) || m.superOptions.split(",").includes("ro")) continue;
    const devno = `${m.major}:${m.minor}`;
    if (seen.has(devno)) continue;
    seen.add(devno);
    measured.push({ mount: m.mountPoint, device: m.source.split("/").pop() || devno });
  }
  return measured;
}

/**
 * statfs(2) figures as the two families' items. `available` is f_bavail, what a process without
 * CAP_SYS_RESOURCE may still write (df's "Avail"); Kata reports f_bfree there, counting the blocks kept for
 * root. `used` is total less f_bfree (df's "Used"), so used + available is less than total by the
 * reserve, as in df.
 */
export function usageItems(s: StatsFs): { bytes: Item[]; inodes: Item[] } {
  const total = s.blocks * s.bsize;
  return {
    bytes: [
      ["total", total],
      ["used", Math.max(0, total - s.bfree * s.bsize)],
      ["available", s.bavail * s.bsize],
    ],
    inodes: [
      ["total", s.files],
      ["used", Math.max(0, s.files - s.ffree)],
      ["available", s.ffree],
    ],
  };
}
