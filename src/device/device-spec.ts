import type { Logger } from "../log.js";
import type { DeviceWaiter } from "./device-registry.js";

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

/** What finding a hot-plugged device needs: the registry to wait on, sysfs, the wait's bound and the call's signal. */
export interface DeviceContext {
  readonly devices: DeviceWaiter;
  /** sysfs root (/sys). */
  readonly sysfs: string;
  /** agent.hotplug_timeout. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  readonly log: Logger;
}

/** A host PCI address and the guest's address of the same function ("0000:1a:01.0" → "0000:02:01.0"). */
export type PciPair = readonly [host: string, guest: string];

/** What one device changes in the container's spec. */
export interface DeviceUpdate {
  /** The guest node the container gets at its `containerPath`; none for a device the container's spec does not name. */
  node?: GuestDevice;
  /** Where that node is made in the container when not at `containerPath` (VFIO: the guest's group). */
  finalPath?: string;
  /** The PCI functions passed through, for the `PCIDEVICE_*` variables. */
  pci: readonly PciPair[];
}

/** Sets up one type of device. */
export interface DeviceHandler {
  /** Whether the spec must have a `linux.devices` entry at the device's `containerPath`. */
  readonly specEntry: boolean;
  setUp(device: DeviceSpec, ctx: DeviceContext): Promise<DeviceUpdate>;
}
