import { stat } from "node:fs/promises";
import type { LinuxDeviceCgroup } from "../oci/oci-spec.js";
import { deviceNumber } from "./device-number.js";

/**
 * A rule denying containers the block device that holds the guest's root filesystem (`root`), or
 * undefined when there is none: an initramfs, tmpfs or overlay root has an anonymous device (major 0).
 * Kata's Go agent denied an nvdimm root; any block root deserves the same. Asked once per root: each
 * caller gets its own copy.
 */
export function guestRootDeviceRule(root = "/"): Promise<LinuxDeviceCgroup | undefined> {
  let rule = rules.get(root);
  if (!rule) {
    rule = stat(root, { bigint: true }).then(({ dev }) => {
      const { major, minor } = deviceNumber(dev);
      return major === 0 ? undefined : { allow: false, type: "b", major, minor, access: "rwm" };
    });
    rules.set(root, rule);
    rule.catch(() => rules.delete(root));
  }
  return rule.then((r) => r && { ...r });
}

/** The rule of each root asked for: the device under a root does not change while the agent runs. */
const rules = new Map<string, Promise<LinuxDeviceCgroup | undefined>>();
