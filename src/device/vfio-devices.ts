import { AgentError, Code } from "../errors.js";
import { throwIfAborted } from "../sys/abort.js";
import { readKernelFile } from "../sys/read-kernel-file.js";
import type { DeviceContext, DeviceHandler, DeviceSpec, GuestDevice, PciPair } from "./device-spec.js";
import { deviceName } from "./guest-dev-path.js";
import { pciFunction, vfioGroup } from "./matchers.js";
import { parsePciAddress } from "./pci-address.js";
import { bindPciDriver, iommuGroupOf, pciDriverOf } from "./pci-driver.js";
import { formatPciPath, type PciPath, parsePciPath, resolvePciPath } from "./pci-path.js";
import type { Uevent } from "./uevent.js";

const VFIO_PCI = "vfio-pci";
const MAX_OPTIONS = 64;
const OPTION_FORM = '"<host BDF>=<guest PCI path>"';

/** One function of a passed-through group: the host's address and where the guest has it. */
interface VfioOption {
  host: string;
  path: PciPath;
}

/** A function found in the guest. */
interface GuestFunction {
  host: string;
  bdf: string;
}

/**
 * The device's options, `"<host BDF>=<guest PCI path>"` each, all checked before any is used (a malformed
 * one is INVALID_ARGUMENT quoting it). One with an empty guest path is left out with a warning, as in
 * Kata: the host could not tell where the guest has it (a device behind a pxb-pcie root bus).
 */
function vfioOptions(device: DeviceSpec, ctx: DeviceContext): VfioOption[] {
  const invalid = (option: string, why: string) =>
    new AgentError(Code.INVALID_ARGUMENT, `option ${JSON.stringify(option)} ${why}, not ${OPTION_FORM}`);
  if (device.options.length > MAX_OPTIONS) {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      `${device.options.length} options: more functions than ${MAX_OPTIONS}`,
    );
  }
  const options: VfioOption[] = [];
  for (const option of device.options) {
    const parts = option.split("=");
    const [hostText = "", pathText = ""] = parts;
    if (parts.length !== 2) throw invalid(option, "is");
    const host = parsePciAddress(hostText);
    if (host === undefined) throw invalid(option, "has no host PCI address");
    if (pathText === "") {
      ctx.log.warn(
        { device: deviceName(device), option },
        "a VFIO function without a guest PCI path: nothing to set up for it",
      );
      continue;
    }
    let path: PciPath;
    try {
      path = parsePciPath(pathText);
    } catch (error) {
      throw AgentError.wrap(error, `option ${JSON.stringify(option)}`);
    }
    options.push({ host, path });
  }
  return options;
}

/** Each function once the guest has it (at once when present), awaited together within one timeout. */
function findFunctions(options: readonly VfioOption[], ctx: DeviceContext): Promise<GuestFunction[]> {
  return Promise.all(
    options.map(async ({ host, path }) => {
      const pci = await resolvePciPath(ctx.sysfs, path);
      await ctx.devices.waitFor(pciFunction(pci.devpath, formatPciPath(path)), ctx);
      return { host, bdf: pci.bdf };
    }),
  );
}

/** The one IOMMU group of all the functions, read before any is rebound, so a refusal changes nothing. */
async function commonGroup(functions: readonly GuestFunction[], sysfs: string): Promise<string> {
  let first: { bdf: string; group: string } | undefined;
  for (const { bdf } of functions) {
    const group = await iommuGroupOf(sysfs, bdf);
    if (group === undefined) {
      throw new AgentError(
        Code.FAILED_PRECONDITION,
        `${bdf} has no IOMMU group (the guest needs a virtual IOMMU)`,
      );
    }
    if (first && first.group !== group) {
      throw new AgentError(
        Code.FAILED_PRECONDITION,
        `${bdf} is in IOMMU group ${group}, not in ${first.bdf}'s group ${first.group}: one VFIO device is one group`,
      );
    }
    first ??= { bdf, group };
  }
  if (!first) {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      `no option names a function in the guest (options are ${OPTION_FORM})`,
    );
  }
  return first.group;
}

/** The group's node, with the numbers sysfs gives it (`/sys/devices/virtual/vfio/<group>/dev`). */
async function groupNode(sysfs: string, event: Uevent, group: string): Promise<GuestDevice> {
  const path = `/dev/${event.devname || `vfio/${group}`}`;
  const text = await readKernelFile(`${sysfs}${event.devpath}/dev`, 64).catch((error: unknown) => {
    throw AgentError.wrap(error, `cannot read the numbers of ${path}`);
  });
  const match = /^([0-9]{1,10}):([0-9]{1,10})\n?$/.exec(text);
  if (!match) throw new AgentError(Code.INTERNAL, `${event.devpath}/dev reads ${JSON.stringify(text)}`);
  return { path, type: "c", major: Number(match[1]), minor: Number(match[2]) };
}

/** Waits for the group's node; a timeout says which function vfio-pci did not take. */
async function waitForGroup(functions: readonly GuestFunction[], group: string, ctx: DeviceContext) {
  try {
    return await ctx.devices.waitFor(vfioGroup(group), ctx);
  } catch (error) {
    if (!(error instanceof AgentError) || error.code !== Code.DEADLINE_EXCEEDED) throw error;
    const drivers = await Promise.all(
      functions.map(async ({ bdf }) => `${bdf}: ${(await pciDriverOf(ctx.sysfs, bdf)) ?? "no driver"}`),
    );
    throw new AgentError(
      Code.DEADLINE_EXCEEDED,
      `${error.message} (${drivers.join(", ")}; is the ${VFIO_PCI} module loaded?)`,
      { cause: error },
    );
  }
}

/**
 * `vfio-pci`: every function of the host's IOMMU group is found at its guest PCI path, checked to be in
 * one guest IOMMU group (FAILED_PRECONDITION without a virtual IOMMU, before anything is changed), bound
 * to vfio-pci (driver_override, unbind, drivers_probe), and the group's node `/dev/vfio/<group>` awaited;
 * the container gets that node at that path. Nothing is unbound again, on failure or on removal, as in
 * Kata: the host gave the device to the sandbox; a retry finds what is bound already and goes on, and an
 * undo could take a function from a container made meanwhile with the same group.
 */
const vfioPci: DeviceHandler = {
  specEntry: true,
  async setUp(device, ctx) {
    try {
      const options = vfioOptions(device, ctx);
      const functions = await findFunctions(options, ctx);
      const group = await commonGroup(functions, ctx.sysfs);
      const started = performance.now();
      const rebound: string[] = [];
      for (const { bdf } of functions) {
        throwIfAborted(ctx.signal);
        if (await bindPciDriver(ctx.sysfs, bdf, VFIO_PCI)) rebound.push(bdf);
      }
      const bound = performance.now();
      const event = await waitForGroup(functions, group, ctx);
      const node = await groupNode(ctx.sysfs, event, group);
      ctx.log.info(
        {
          device: deviceName(device),
          group,
          node: node.path,
          rebound,
          bind_ms: Math.round(bound - started),
          group_ms: Math.round(performance.now() - bound),
        },
        "VFIO group ready",
      );
      return { node, finalPath: node.path, pci: functions.map(pair) };
    } catch (error) {
      throw AgentError.wrap(error, deviceName(device));
    }
  },
};

/**
 * `vfio-pci-gk` (Kata's `vfio_mode = "guest-kernel"`): the functions keep the guest kernel's driver; each
 * is awaited and its addresses recorded for `PCIDEVICE_*`. The spec needs no entry for it: the host takes
 * the `/dev/vfio` nodes out.
 */
const vfioPciGk: DeviceHandler = {
  specEntry: false,
  async setUp(device, ctx) {
    try {
      const functions = await findFunctions(vfioOptions(device, ctx), ctx);
      return { pci: functions.map(pair) };
    } catch (error) {
      throw AgentError.wrap(error, deviceName(device));
    }
  },
};

const pair = ({ host, bdf }: GuestFunction): PciPair => [host, bdf];

/** The VFIO PCI handlers by the wire's `Device.type`. */
export const VFIO_HANDLERS: ReadonlyMap<string, DeviceHandler> = new Map([
  ["vfio-pci", vfioPci],
  ["vfio-pci-gk", vfioPciGk],
]);
