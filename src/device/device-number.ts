/**
 * Splits a Linux dev_t (`stat.dev` / `stat.rdev`) into major and minor as glibc's major()/minor() do,
 * for its layout `MMMMMmmmmmmMMMmm` (hex digits, high to low). JS shifts on numbers are 32-bit, so
 * this computes on a bigint: pass `stat(path, { bigint: true }).rdev` for an exact value.
 */
export function deviceNumber(dev: bigint | number): { major: number; minor: number } {
  const d = BigInt(dev);
  const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & 0xfffff000n);
  const minor = (d & 0xffn) | ((d >> 12n) & 0xffffff00n);
  return { major: Number(major), minor: Number(minor) };
}
