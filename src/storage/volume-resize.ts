import { stat } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { sysfsUeventFields } from "../device/uevent.js";
import { AgentError, Code } from "../errors.js";
import type { Logger } from "../log.js";
import { throwIfAborted, untilAborted } from "../sys/abort.js";
import { hasErrno } from "../sys/errno.js";
import { CommandError, runCommand } from "../sys/exec.js";
import type { MountInfo } from "../sys/mountinfo.js";
import { readKernelFile } from "../sys/read-kernel-file.js";
import { writeKernelFile } from "../sys/write-kernel-file.js";

/** How each filesystem berth grows is grown while mounted: the tool and its argv. */
const GROWERS: Readonly<Record<string, (device: string, mountPoint: string) => string[]>> = {
  ext2: (device) => ["resize2fs", device],
  ext3: (device) => ["resize2fs", device],
  ext4: (device) => ["resize2fs", device],
  xfs: (_device, mountPoint) => ["xfs_growfs", mountPoint],
};

/**
 * How to grow a mounted `fsType` filesystem to fill its device: (device, mount point) → argv.
 * FAILED_PRECONDITION naming the type for one berth cannot grow online (squashfs, vfat, tmpfs, …).
 */
export function growCommand(fsType: string): (device: string, mountPoint: string) => string[] {
  const grower = Object.hasOwn(GROWERS, fsType) ? GROWERS[fsType] : undefined;
  if (!grower) {
    throw new AgentError(
      Code.FAILED_PRECONDITION,
      `cannot grow a ${JSON.stringify(fsType)} filesystem online (berth grows ${Object.keys(GROWERS).join(", ")})`,
    );
  }
  return grower;
}

/** A block device as its sysfs `uevent` file names it: the node under /dev, and whether it is a partition. */
export function blockDeviceFromUevent(text: string): { name: string; partition: boolean } | undefined {
  const fields = sysfsUeventFields(text);
  const name = fields.get("DEVNAME");
  if (!name || name.split("/").includes("..")) return undefined;
  return { name, partition: fields.get("DEVTYPE") === "partition" };
}

export interface GrowContext {
  /** The storage's mount, as mountinfo shows it. */
  readonly mount: MountInfo;
  /** The size in bytes the host made the disk, at least; 0: whatever it is now. */
  readonly size: bigint;
  readonly sysfs: string;
  /** How long the disk may take to show the size asked for (virtio-blk learns it from an interrupt). */
  readonly capacityWaitMs: number;
  /** The bound on the growing command. */
  readonly growTimeoutMs: number;
  readonly signal: AbortSignal | undefined;
  readonly log: Logger;
}

const CAPACITY_POLL_MS = 50;

/** The disk's capacity in bytes (sysfs counts 512-byte sectors whatever the disk's block size). */
async function capacity(deviceDir: string): Promise<bigint> {
  return BigInt((await readKernelFile(`${deviceDir}/size`, 64)).trim()) * 512n;
}

/** Waits until the disk holds `size` bytes, for a bounded time; returns its capacity then. */
async function capacityOf(deviceDir: string, device: string, ctx: GrowContext): Promise<bigint> {
  const deadline = Date.now() + ctx.capacityWaitMs;
  for (;;) {
    const bytes = await capacity(deviceDir);
    if (bytes >= ctx.size) return bytes;
    if (Date.now() >= deadline) {
      throw new AgentError(
        Code.FAILED_PRECONDITION,
        `${device} holds ${bytes} bytes, less than the ${ctx.size} asked for: the disk was not grown on the host, or the guest has not seen it yet`,
      );
    }
    await untilAborted(sleep(CAPACITY_POLL_MS), ctx.signal);
  }
}

/** A SCSI disk learns its new capacity when rescanned; virtio-blk, loop and others have no rescan file. */
async function rescan(deviceDir: string): Promise<boolean> {
  try {
    await writeKernelFile(`${deviceDir}/device/rescan`, "1");
    return true;
  } catch (error) {
    if (hasErrno(error, "ENOENT")) return false;
    throw error;
  }
}

/** The whole disk the filesystem mounted at `mount` is on: its sysfs directory and /dev node. */
async function diskOf(mount: MountInfo, sysfs: string): Promise<{ dir: string; device: string }> {
  const dir = `${sysfs}/dev/block/${mount.major}:${mount.minor}`;
  const uevent = await readKernelFile(`${dir}/uevent`, 8192).catch((error: unknown) => {
    if (!hasErrno(error, "ENOENT")) throw error;
    throw new AgentError(
      Code.FAILED_PRECONDITION,
      `it is not on a block device (device number ${mount.major}:${mount.minor})`,
    );
  });
  const disk = blockDeviceFromUevent(uevent);
  if (!disk) throw new AgentError(Code.INTERNAL, `${dir}/uevent names no device: ${JSON.stringify(uevent)}`);
  const device = `/dev/${disk.name}`;
  if (disk.partition) {
    throw new AgentError(
      Code.FAILED_PRECONDITION,
      `it is on partition ${device}: berth grows filesystems on whole disks only`,
    );
  }
  const node = await stat(device).catch((error: unknown) => {
    throw AgentError.wrap(error, `cannot find the node of ${dir}`);
  });
  if (!node.isBlockDevice())
    throw new AgentError(Code.FAILED_PRECONDITION, `${device} is not a block device`);
  return { dir, device };
}

/**
 * ResizeVolume: grows the filesystem mounted at `ctx.mount` to fill its disk, online. The disk is
 * rescanned where it can be (SCSI), must hold at least `size` bytes (waited for up to capacityWaitMs),
 * and the filesystem is then grown (ext2/3/4 by resize2fs, xfs by xfs_growfs, bounded by growTimeoutMs
 * and the call's signal). It never shrinks: a size below the filesystem's grows it to the disk all the
 * same, which is nothing when the disk did not grow.
 */
export async function growVolume(ctx: GrowContext): Promise<void> {
  const { mount, log } = ctx;
  const grower = growCommand(mount.fsType);
  const { dir, device } = await diskOf(mount, ctx.sysfs);
  const argv = grower(device, mount.mountPoint);
  const rescanned = await rescan(dir);
  const bytes = await capacityOf(dir, device, ctx);
  throwIfAborted(ctx.signal);
  try {
    const { stdout } = await runCommand(argv, { timeoutMs: ctx.growTimeoutMs, signal: ctx.signal });
    log.info(
      { device, mountPoint: mount.mountPoint, bytes, rescanned, output: stdout.trim() },
      "volume grown",
    );
  } catch (error) {
    if (error instanceof CommandError && hasErrno(error.cause, "ENOENT")) {
      throw new AgentError(Code.FAILED_PRECONDITION, `${argv[0]} is not installed in the guest`, {
        cause: error,
      });
    }
    throw error;
  }
}
