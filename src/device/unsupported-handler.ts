import { AgentError, Code } from "../errors.js";
import type { DeviceHandler } from "./device-spec.js";
import { deviceName } from "./guest-dev-path.js";

/**
 * A handler for a device kind berth knows but cannot set up yet (VFIO passthrough needs PCI path
 * resolution, driver binding and IOMMU groups): UNIMPLEMENTED, saying what is missing.
 */
export function unsupportedHandler(what: string): DeviceHandler {
  return async (device) => {
    throw new AgentError(
      Code.UNIMPLEMENTED,
      `${deviceName(device)}: ${what} comes with device hotplug support, which berth does not have yet`,
    );
  };
}
