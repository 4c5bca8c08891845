import { access, readFile } from "node:fs/promises";
import { AgentError, Code } from "../errors.js";
import { hasErrno } from "../sys/errno.js";

const BLOCK_SIZE = "devices/system/memory/block_size_bytes";
const PROBE = "devices/system/memory/probe";

/** sysfs's memory block size: hex digits, with or without 0x, at most 64 bits ("8000000" = 128 MiB). */
export function blockSizeFromSysfs(text: string): bigint {
  const hex = text.trim().replace(/^0x/i, "");
  if (!/^[0-9a-f]{1,16}$/i.test(hex)) {
    throw new AgentError(
      Code.INTERNAL,
      `memory block size ${JSON.stringify(text.slice(0, 40))} is not a hexadecimal number`,
    );
  }
  return BigInt(`0x${hex}`);
}

/** The memory hotplug block size in bytes; 0 when the guest has no memory block devices (as Kata). */
export async function memoryBlockSize(sysfs: string): Promise<bigint> {
  const file = `${sysfs}/${BLOCK_SIZE}`;
  try {
    return blockSizeFromSysfs(await readFile(file, "utf8"));
  } catch (error) {
    if (hasErrno(error, "ENOENT")) return 0n;
    throw AgentError.wrap(error, `cannot read the memory block size from ${file}`);
  }
}

/** Whether memory can be hot-added by probe (CONFIG_ARCH_MEMORY_PROBE creates the probe file). */
export async function memoryHotplugProbe(sysfs: string): Promise<boolean> {
  const file = `${sysfs}/${PROBE}`;
  try {
    await access(file);
    return true;
  } catch (error) {
    if (hasErrno(error, "ENOENT")) return false;
    throw AgentError.wrap(error, `cannot look for ${file}`);
  }
}
