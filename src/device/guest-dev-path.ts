import type { BigIntStats } from "node:fs";
import { stat } from "node:fs/promises";
import { posix } from "node:path";
import { AgentError, Code } from "../errors.js";
import { deviceNumber } from "./device-number.js";
import type { DeviceSpec, GuestDevice } from "./device-spec.js";

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
    throw AgentError.wrap(error, `${what}: cannot find ${path} in the guest`);
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
