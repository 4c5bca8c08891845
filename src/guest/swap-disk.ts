import { type BlockContext, virtioBlkAt } from "../device/block-devices.js";
import { pciPathFromSlots } from "../device/pci-path.js";
import { AgentError } from "../errors.js";
import { runCommand } from "../sys/exec.js";

const SWAPON_TIMEOUT_MS = 30_000;

/**
 * AddSwap: the virtio-blk disk the host hot-plugged at `slots` (a PCI path on root bus 00), awaited like
 * any disk, then enabled as swap. The host formats it (mkswap) before plugging it, as Kata's runtime does.
 * Returns the disk's node.
 */
export async function addSwapDisk(ctx: BlockContext, slots: readonly number[]): Promise<string> {
  const path = pciPathFromSlots(slots);
  const device = await virtioBlkAt(ctx, path);
  try {
    await runCommand(["swapon", device], { timeoutMs: SWAPON_TIMEOUT_MS, signal: ctx.signal });
  } catch (error) {
    throw AgentError.wrap(error, `cannot enable swap on ${device}`);
  }
  return device;
}
