const BDF = /^([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])$/;

/**
 * A PCI address "DDDD:BB:SS.F" (hex, any case, leading zeros optional, as Kata's `pci::Address` reads it)
 * in the kernel's spelling ("0000:3b:00.0"); undefined for what is not one, or has a slot past 1f.
 */
export function parsePciAddress(text: string): string | undefined {
  const match = BDF.exec(text);
  if (!match) return undefined;
  const [, domain = "", bus = "", slot = "", fn = ""] = match;
  if (Number.parseInt(slot, 16) > 0x1f) return undefined;
  const pad = (hex: string, width: number) => hex.toLowerCase().padStart(width, "0");
  return `${pad(domain, 4)}:${pad(bus, 2)}:${pad(slot, 2)}.${fn}`;
}
