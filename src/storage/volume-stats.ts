import type { BigIntStatsFs } from "node:fs";

/** One dimension of a volume's use, as CSI's `VolumeUsage` has it. */
export interface Usage {
  total: bigint;
  available: bigint;
  used: bigint;
}

/** What GetVolumeStats answers: the volume's bytes and inodes. */
export interface VolumeStats {
  bytes: Usage;
  inodes: Usage;
}

const atLeastZero = (n: bigint) => (n < 0n ? 0n : n);

/**
 * A volume's use from its statfs, as kubelet reports a volume: `available` is what an unprivileged writer
 * may still use (`f_bavail`, without the blocks reserved for root), `used` what is taken (`f_blocks -
 * f_bfree`). Kata's agent answers `f_bfree` as available, over-reporting ext4's 5% reserve. Figures a
 * filesystem does not keep (inodes on some) come out 0, never negative.
 */
export function volumeStatsFromStatfs(
  fs: Pick<BigIntStatsFs, "bsize" | "blocks" | "bfree" | "bavail" | "files" | "ffree">,
): VolumeStats {
  const total = fs.blocks * fs.bsize;
  return {
    bytes: { total, available: fs.bavail * fs.bsize, used: atLeastZero(total - fs.bfree * fs.bsize) },
    inodes: { total: fs.files, available: fs.ffree, used: atLeastZero(fs.files - fs.ffree) },
  };
}
