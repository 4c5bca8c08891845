import { type PciPair, rewritePciEnv } from "../device/devices.js";
import type { Logger } from "../log.js";

/**
 * `env` with the container's `PCIDEVICE_*` variables naming the guest's addresses of the functions passed
 * through (`pci`, host → guest); a variable left untranslated is logged.
 */
export function guestPciEnv(
  env: readonly string[],
  pci: readonly PciPair[],
  log: Logger,
  id: string,
): string[] {
  return rewritePciEnv(env, pci, ({ name, address }) =>
    log.warn(
      { container: id, variable: name, address },
      "a PCIDEVICE_* variable names a host PCI address no device of the container passed through: left untranslated",
    ),
  );
}
