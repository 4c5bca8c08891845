import { constants } from "node:fs";
import { open } from "node:fs/promises";

/**
 * Writes `text` to a file the kernel serves (/proc/sys, sysfs attributes such as `driver_override` or a
 * SCSI host's `scan`) in one write: opened write-only (some are mode 0200) and never created, since a file
 * the kernel does not have is not one to make. Rejects with the system error (its `code`, e.g. ENOENT).
 */
export async function writeKernelFile(path: string, text: string): Promise<void> {
  const handle = await open(path, constants.O_WRONLY | constants.O_TRUNC);
  try {
    await handle.write(text);
  } finally {
    await handle.close();
  }
}
