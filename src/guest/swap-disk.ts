import { type BlockContext, virtioBlkAt } from "../device/block-devices.js";
import { pciPathFromSlots } from "../device/pci-path.js";
import { enableSwap, type SwapArea } from "./swap.js";

/**
 * AddSwap: the virtio-blk disk the host hot-plugged at `slots` (a PCI path on root bus 00), awaited like
 * any disk, then enabled as swap (see enableSwap). The host formats it (mkswap) before plugging it, as
 * Kata's runtime does.
 */
export async function addSwapDisk(
  ctx: BlockContext & { readonly procfs: string },
  slots: readonly number[],
): Promise<SwapArea> {
  return enableSwap(await virtioBlkAt(ctx, pciPathFromSlots(slots)), ctx.procfs, ctx.signal);
}
