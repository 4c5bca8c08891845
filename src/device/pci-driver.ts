import { readlink } from "node:fs/promises";
import { basename } from "node:path";
import { AgentError, Code } from "../errors.js";
import { hasErrno } from "../sys/errno.js";
import { writeKernelFile } from "../sys/write-kernel-file.js";

const devicePath = (sysfs: string, bdf: string) => `${sysfs}/bus/pci/devices/${bdf}`;

/** The name of the driver bound to the PCI function `bdf` ("virtio-pci"); undefined when none is. */
export async function pciDriverOf(sysfs: string, bdf: string): Promise<string | undefined> {
  try {
    return basename(await readlink(`${devicePath(sysfs, bdf)}/driver`));
  } catch (error) {
    if (hasErrno(error, "ENOENT")) return undefined;
    throw AgentError.wrap(error, `${bdf}: cannot read its driver link`);
  }
}

/** The IOMMU group of the PCI function `bdf` ("5"); undefined when it has none (no IOMMU). */
export async function iommuGroupOf(sysfs: string, bdf: string): Promise<string | undefined> {
  const link = `${devicePath(sysfs, bdf)}/iommu_group`;
  let target: string;
  try {
    target = await readlink(link);
  } catch (error) {
    if (hasErrno(error, "ENOENT")) return undefined;
    throw AgentError.wrap(error, `${bdf}: cannot read its IOMMU group`);
  }
  const group = basename(target);
  if (!/^[0-9]{1,10}$/.test(group)) {
    throw new AgentError(Code.INTERNAL, `${bdf}: unexpected IOMMU group link ${link} -> ${target}`);
  }
  return group;
}

/**
 * Makes `driver` the driver of the PCI function `bdf`, as `driverctl set-override` does: its name goes to
 * the function's `driver_override` (so that only it may take the function, now and at any later probe),
 * then, unless it is bound already, the function is unbound from the driver it has and the PCI bus asked
 * to probe it. Every step can be taken again: a call that failed half way is finished by the next one
 * (an unbind that finds the function unbound meanwhile goes on). Whether the driver took it is for the
 * caller to see (a module not loaded takes nothing, and the kernel does not say). Returns whether the
 * function was rebound.
 */
export async function bindPciDriver(sysfs: string, bdf: string, driver: string): Promise<boolean> {
  const dev = devicePath(sysfs, bdf);
  const write = async (file: string, text: string, what: string, tolerated: readonly string[] = []) => {
    try {
      await writeKernelFile(file, text);
    } catch (error) {
      if (hasErrno(error, ...tolerated)) return;
      throw AgentError.wrap(error, `${bdf}: cannot bind it to ${driver}: ${what}`);
    }
  };
  await write(`${dev}/driver_override`, driver, `cannot write ${driver} to its driver_override`);
  const current = await pciDriverOf(sysfs, bdf);
  if (current === driver) return false;
  if (current !== undefined) {
    await write(`${dev}/driver/unbind`, bdf, `cannot unbind it from ${current}`, ["ENOENT", "ENODEV"]);
  }
  await write(`${sysfs}/bus/pci/drivers_probe`, bdf, "the PCI bus's drivers_probe refused it");
  return true;
}
