import type { DeviceHandler } from "./device-spec.js";
import { guestDevPathHandler } from "./guest-dev-path.js";
import { unsupportedHandler } from "./unsupported-handler.js";

const SUPPORTED: ReadonlyMap<string, DeviceHandler> = new Map([
  ["blk", guestDevPathHandler("its PCI path")],
  ["mmioblk", guestDevPathHandler("its MMIO device name")],
  ["blk-ccw", guestDevPathHandler("its CCW bus id")],
  ["scsi", guestDevPathHandler("its SCSI address")],
  ["nvdimm", guestDevPathHandler("its pmem region")],
]);

/** Handlers by the wire's `Device.type`, Kata's names (`DEVICE_HANDLERS` in the Rust agent). */
export const DEVICE_HANDLERS: ReadonlyMap<string, DeviceHandler> = new Map([
  ...SUPPORTED,
  [
    "vfio-pci",
    unsupportedHandler("VFIO PCI passthrough (PCI path resolution, vfio-pci binding, IOMMU groups)"),
  ],
  ["vfio-pci-gk", unsupportedHandler("VFIO PCI passthrough to a guest kernel driver (PCI path resolution)")],
  ["vfio-ap", unsupportedHandler("VFIO AP (s390x crypto) passthrough")],
  ["vfio-ap-cold", unsupportedHandler("VFIO AP (s390x crypto) passthrough")],
]);

/** The device types berth can set up (the others answer UNIMPLEMENTED), sorted: GetGuestDetails reports them. */
export const deviceHandlerNames: readonly string[] = [...SUPPORTED.keys()].sort();
