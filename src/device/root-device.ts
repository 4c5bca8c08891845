import { stat } from "node:fs/promises";
import type { LinuxDeviceCgroup } from "../oci/oci-spec.js";
import { deviceNumber } from "./device-number.js";

/**
 * A rule denying containers the block device that holds the guest's root filesystem (`root`), or
 * undefined when there is none: an initramfs, tmpfs or overlay root has an anonymous device (major 0).
 * Kata's Go agent denied an nvdimm root; any block root deserves the same.
 */
export async function guestRootDeviceRule(root = "/"): Promise<LinuxDeviceCgroup | undefined> {
  const { major, minor } = deviceNumber((await stat(root, { bigint: true })).dev);
  if (major === 0) return undefined;
  return { allow: false, type: "b", major, minor, access: "rwm" };
}
