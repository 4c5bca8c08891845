import { AgentError, Code } from "../errors.js";
import { mmioBlkAt, pmemAt, scsiDiskAt, virtioBlkAt } from "./block-devices.js";
import type { DeviceContext, DeviceHandler, DeviceSpec, DeviceUpdate } from "./device-spec.js";
import { deviceName, guestDeviceAt } from "./guest-dev-path.js";
import { VFIO_HANDLERS } from "./vfio-devices.js";

/** A handler that finds the device's node and gives the container that node. */
function nodeHandler(find: (device: DeviceSpec, ctx: DeviceContext) => Promise<string>): DeviceHandler {
  return {
    specEntry: true,
    async setUp(device, ctx): Promise<DeviceUpdate> {
      const path = await find(device, ctx).catch((error: unknown) => {
        throw AgentError.wrap(error, deviceName(device));
      });
      return { node: await guestDeviceAt(path, deviceName(device)), pci: [] };
    },
  };
}

/** Only on s390x, as in Kata's agent built for any other architecture. */
function s390Only(what: string): DeviceHandler {
  return {
    specEntry: true,
    async setUp(device) {
      throw new AgentError(
        Code.FAILED_PRECONDITION,
        `${deviceName(device)}: ${what} is only supported on s390x`,
      );
    },
  };
}

/**
 * `blk`: the virtio-blk disk at the PCI path in `id` (the host's `vm_path` is a guess at the guest's name,
 * and is used only when there is no `id`).
 */
const blk = nodeHandler((device, ctx) =>
  device.id ? virtioBlkAt(ctx, device.id) : Promise.resolve(device.vmPath),
);

/** `mmioblk`: `vm_path` is the guest's name (Firecracker), awaited when it is not there yet. */
const mmioblk = nodeHandler((device, ctx) => mmioBlkAt(ctx, device.vmPath || device.id));

/** `scsi`: the disk at the SCSI address in `id`, scanned for and awaited. */
const scsi = nodeHandler((device, ctx) => scsiDiskAt(ctx, device.id));

/** `nvdimm`: `vm_path` ("/dev/pmem0"), awaited when it is not there yet. */
const nvdimm = nodeHandler((device, ctx) => pmemAt(ctx, device.vmPath || device.id));

const SUPPORTED: ReadonlyMap<string, DeviceHandler> = new Map([
  ["blk", blk],
  ["mmioblk", mmioblk],
  ["scsi", scsi],
  ["nvdimm", nvdimm],
  ...VFIO_HANDLERS,
]);

/** Handlers by the wire's `Device.type`, Kata's names (`DEVICE_HANDLERS` in the Rust agent). */
export const DEVICE_HANDLERS: ReadonlyMap<string, DeviceHandler> = new Map([
  ...SUPPORTED,
  ["blk-ccw", s390Only("CCW")],
  ["vfio-ap", s390Only("VFIO-AP")],
  ["vfio-ap-cold", s390Only("VFIO-AP")],
]);

/** The device types berth can set up, sorted: GetGuestDetails reports them. */
export const deviceHandlerNames: readonly string[] = [...SUPPORTED.keys()].sort();
