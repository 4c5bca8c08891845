/**
 * A device the host attached for a container: the agent protocol's `grpc.Device` (which satisfies this
 * structurally). `type` selects the handler; `containerPath` names the spec's `linux.devices[]` entry.
 */
export interface DeviceSpec {
  /** Where the host says the device is, per type: a PCI path, a SCSI address, a device name. */
  id: string;
  type: string;
  /** The device's node in the guest, when the host knows it ("/dev/vdb", "/dev/pmem0"). */
  vmPath: string;
  containerPath: string;
  options: readonly string[];
}

/** A device node found in the guest. */
export interface GuestDevice {
  path: string;
  type: "b" | "c";
  major: number;
  minor: number;
}

/** Finds a device's node in the guest. */
export type DeviceHandler = (device: DeviceSpec) => Promise<GuestDevice>;
