import { readdir } from "node:fs/promises";
import { AgentError, Code } from "../errors.js";

/** One element of a PCI path: a slot on the bus below the previous element (function 0 unless given). */
export interface PciSlot {
  slot: number;
  fn: number;
}

/**
 * A PCI function named by topology, as Kata hosts name hot-plugged devices ("02/01": slot 1 on the bus
 * behind the bridge at slot 2 of the root bus): bus numbers are the guest's to choose, slots are the host's.
 */
export interface PciPath {
  /** The root bus ("00"; a pxb-pcie root bus such as "20" in the three-element form Kata also accepts). */
  rootBus: string;
  slots: readonly PciSlot[];
}

const MAX_ELEMENTS = 16;
const ELEMENT = /^([0-9a-fA-F]{1,2})(?:\.([0-7]))?$/;
const BDF = /^([0-9a-f]{4}:[0-9a-f]{2}):[0-9a-f]{2}\.[0-7]$/;

/** Parses "SS[.F][/SS[.F]…]" (hex); INVALID_ARGUMENT naming what is wrong. */
export function parsePciPath(text: string): PciPath {
  const invalid = (why: string) =>
    new AgentError(Code.INVALID_ARGUMENT, `PCI path ${JSON.stringify(text)}: ${why}`);
  if (text === "") throw invalid("it is empty");
  const elements = text.split("/");
  if (elements.length > MAX_ELEMENTS) throw invalid(`more than ${MAX_ELEMENTS} elements`);
  const parsed = elements.map((element, i) => {
    const match = ELEMENT.exec(element);
    if (!match?.[1]) throw invalid(`element ${i + 1} (${JSON.stringify(element)}) is not SS or SS.F in hex`);
    return { value: Number.parseInt(match[1], 16), fn: Number(match[2] ?? "0") };
  });
  const first = parsed[0];
  let rootBus = "00";
  if (parsed.length >= 3 && first && first.value >= 0x20) {
    rootBus = hex2(first.value);
    parsed.shift();
  }
  const slots = parsed.map(({ value, fn }, i) => {
    if (value > 0x1f) throw invalid(`slot ${hex2(value)} of element ${i + 1} is past 1f`);
    return { slot: value, fn };
  });
  return { rootBus, slots };
}

/** AddSwap's path: slots on root bus 00, function 0. */
export function pciPathFromSlots(slots: readonly number[]): PciPath {
  if (
    slots.length === 0 ||
    slots.length > MAX_ELEMENTS ||
    slots.some((s) => !Number.isInteger(s) || s > 0x1f)
  ) {
    throw new AgentError(Code.INVALID_ARGUMENT, `PCI path [${slots.join(", ")}]: not 1 to 16 slots in 0..1f`);
  }
  return { rootBus: "00", slots: slots.map((slot) => ({ slot, fn: 0 })) };
}

export function formatPciPath(path: PciPath): string {
  const slots = path.slots.map(({ slot, fn }) => (fn === 0 ? hex2(slot) : `${hex2(slot)}.${fn}`));
  return (path.rootBus === "00" ? slots : [path.rootBus, ...slots]).join("/");
}

/** A resolved PCI path: the function's sysfs device path and its bus/device/function address. */
export interface PciDevice {
  /** "/devices/pci0000:00/0000:00:02.0/0000:02:01.0" */
  devpath: string;
  /** "0000:02:01.0" */
  bdf: string;
}

/**
 * Where the function of `path` is (or will be, once hot-plugged) in sysfs: each bridge on the way is
 * found now and its secondary bus read from its `pci_bus/` directory (or, without one, from the
 * addresses of the devices behind it), since bus numbers follow the guest's enumeration, not the slots.
 * Only the last element may be absent. A missing bridge is NOT_FOUND.
 */
export async function resolvePciPath(sysfs: string, path: PciPath): Promise<PciDevice> {
  const root = `/devices/pci0000:${path.rootBus}`;
  let bus = `0000:${path.rootBus}`;
  let devpath = root;
  let bdf = "";
  for (const [i, { slot, fn }] of path.slots.entries()) {
    bdf = `${bus}:${hex2(slot)}.${fn}`;
    devpath += `/${bdf}`;
    if (i < path.slots.length - 1) bus = await secondaryBus(sysfs, devpath, formatPciPath(path));
  }
  return { devpath, bdf };
}

async function secondaryBus(sysfs: string, bridge: string, shown: string): Promise<string> {
  const fail = (code: Code, why: string, cause?: unknown) =>
    new AgentError(code, `PCI path ${shown}: ${why}`, cause === undefined ? undefined : { cause });
  let buses: string[];
  try {
    buses = await readdir(`${sysfs}${bridge}/pci_bus`);
  } catch (error) {
    if (!isNotFound(error)) throw AgentError.wrap(error, `PCI path ${shown}: cannot read ${bridge}`);
    let children: string[];
    try {
      children = await readdir(`${sysfs}${bridge}`);
    } catch (missing) {
      if (isNotFound(missing)) throw fail(Code.NOT_FOUND, `there is no bridge at ${bridge}`, missing);
      throw AgentError.wrap(missing, `PCI path ${shown}: cannot read ${bridge}`);
    }
    buses = [...new Set(children.flatMap((name) => BDF.exec(name)?.[1] ?? []))];
    if (buses.length === 0) throw fail(Code.NOT_FOUND, `${bridge} is not a bridge with devices behind it`);
  }
  const [only, ...more] = buses;
  if (only === undefined || more.length > 0) {
    throw fail(Code.FAILED_PRECONDITION, `${bridge} has ${buses.length} buses behind it, not one`);
  }
  return only;
}

const isNotFound = (error: unknown) => (error as NodeJS.ErrnoException).code === "ENOENT";

const hex2 = (n: number) => n.toString(16).padStart(2, "0");
