import { AgentError, Code } from "../errors.js";
import { hasErrno } from "../sys/errno.js";
import { writeKernelFile } from "../sys/write-kernel-file.js";

const PROBE = "devices/system/memory/probe";
const MAX_ADDRESSES = 4096;

/**
 * MemHotplugByProbe: tells the kernel of hot-added memory at each physical address (written to the probe
 * file as `0x…`, one write each, as Kata does), for kernels without ACPI memory hotplug. Without the probe
 * file (a kernel built without CONFIG_ARCH_MEMORY_PROBE) the call is FAILED_PRECONDITION, and nothing is
 * written. A write the kernel refuses names its address; the addresses before it stay added.
 */
export async function probeMemory(sysfs: string, addresses: readonly bigint[]): Promise<void> {
  if (addresses.length > MAX_ADDRESSES) {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      `${addresses.length} addresses to probe: at most ${MAX_ADDRESSES}`,
    );
  }
  const file = `${sysfs}/${PROBE}`;
  for (const address of addresses) {
    try {
      await writeKernelFile(file, `0x${address.toString(16)}`);
    } catch (error) {
      if (hasErrno(error, "ENOENT")) {
        throw new AgentError(
          Code.FAILED_PRECONDITION,
          `the guest kernel has no ${file}: it is built without CONFIG_ARCH_MEMORY_PROBE (memory probing)`,
          { cause: error },
        );
      }
      throw AgentError.wrap(error, `cannot probe memory at 0x${address.toString(16)} (${file})`);
    }
  }
}
