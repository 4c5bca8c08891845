import type { BigIntStats } from "node:fs";
import { stat } from "node:fs/promises";
import { posix } from "node:path";
import { AgentError, Code } from "../errors.js";
import { deviceNumber } from "./device-number.js";
import type { DeviceHandler, DeviceSpec, GuestDevice } from "./device-spec.js";

/**
 * A handler for devices the host names by their guest node (`vmPath`, e.g. "/dev/vdb"): the node must
 * exist now, as a block or character device, and its own type and numbers are what the container
 * gets. Without a vmPath the device can only be found from its `id` (`idKind`: a PCI path, a SCSI
 * address, ...) after waiting for its hotplug, which berth does not do yet: UNIMPLEMENTED.
 *
 * For virtio-blk the host's vmPath is a guess (the guest names disks in probe order); Kata resolves the
 * PCI path instead, as berth will once it has device hotplug support.
 */
export function guestDevPathHandler(idKind: string): DeviceHandler {
  return async (device) => {
    if (!device.vmPath) {
      throw new AgentError(
        Code.UNIMPLEMENTED,
        `${deviceName(device)}: no guest path (vm_path) was given; finding the device by ${idKind} ` +
          `and waiting for its hotplug come with device hotplug support, which berth does not have yet`,
      );
    }
    return guestDeviceAt(device.vmPath, deviceName(device));
  };
}

/** The device node at `path` (a normalised path under /dev/, symlinks followed). */
export async function guestDeviceAt(path: string, what: string): Promise<GuestDevice> {
  if (!path.startsWith("/dev/") || posix.normalize(path) !== path) {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      `${what}: vm_path ${JSON.stringify(path)} is not a path under /dev/`,
    );
  }
  let stats: BigIntStats;
  try {
    stats = await stat(path, { bigint: true });
  } catch (error) {
    const hint =
      AgentError.from(error).code === Code.NOT_FOUND
        ? " (berth does not wait for hotplugged devices yet)"
        : "";
    throw AgentError.wrap(error, `${what}: cannot find ${path} in the guest${hint}`);
  }
  const type = stats.isBlockDevice() ? "b" : stats.isCharacterDevice() ? "c" : undefined;
  if (!type) {
    throw new AgentError(Code.INVALID_ARGUMENT, `${what}: ${path} is not a block or character device`);
  }
  return { path, type, ...deviceNumber(stats.rdev) };
}

/** Names a device in error messages. */
export function deviceName(device: DeviceSpec): string {
  const id = device.id ? ` ${JSON.stringify(device.id)}` : "";
  return `${device.type} device${id} for ${device.containerPath}`;
}
