import type { LinuxDeviceCgroup, Spec } from "./oci-spec.js";

/** A device-cgroup rule without its allow/deny decision. */
export type DeviceRule = Omit<LinuxDeviceCgroup, "allow">;

/** Appends a rule allowing a device; rules apply in order, so it overrides earlier ones. */
export function allowDevice(spec: Spec, rule: DeviceRule): void {
  appendDeviceRule(spec, true, rule);
}

/** Appends a rule denying a device; rules apply in order, so it overrides earlier ones. */
export function denyDevice(spec: Spec, rule: DeviceRule): void {
  appendDeviceRule(spec, false, rule);
}

function appendDeviceRule(spec: Spec, allow: boolean, rule: DeviceRule) {
  spec.linux ??= {};
  const { linux } = spec;
  linux.resources ??= {};
  linux.resources.devices ??= [];
  linux.resources.devices.push({
    allow,
    ...(rule.type === undefined ? {} : { type: rule.type }),
    ...(rule.major === undefined ? {} : { major: rule.major }),
    ...(rule.minor === undefined ? {} : { minor: rule.minor }),
    ...(rule.access === undefined ? {} : { access: rule.access }),
  });
}
