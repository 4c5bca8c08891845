import { mkdir, readdir, readFile, readlink, symlink, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../log.js";
import { DeviceRegistry, type DeviceWaiter } from "./device-registry.js";
import type { DeviceContext } from "./device-spec.js";
import { event, FakeSysfs } from "./fake-sysfs.test-util.js";

/** The guest's bridge `pci-bridge-0`: slot 2 of the root bus, its secondary bus 02 (as QEMU's guests have it). */
export const BRIDGE = "/devices/pci0000:00/0000:00:02.0";
/** The VFIO group devices' numbers (the kernel's dynamic char major for vfio, as in the test VM). */
export const VFIO_MAJOR = 243;

export interface FakeFunction {
  bdf: string;
  /** Its IOMMU group; none without an IOMMU. */
  group?: string;
  /** The driver bound to it. */
  driver?: string;
  /** What its driver_override reads (the kernel's "(null)" when unset). */
  override?: string;
}

/**
 * A FakeSysfs with what binding PCI functions to a driver reads and writes: functions behind the bridge with
 * driver/iommu_group links and driver_override, /sys/bus/pci's device links, drivers (each with an unbind
 * file) and drivers_probe, as plain files the test reads back. Playing the kernel, it makes functions
 * appear and binds them to vfio-pci, announcing each to the registry through `handle()`; it acts when a
 * wait is registered, the first moment an event can be seen.
 */
export class FakePciSysfs {
  readonly sysfs = new FakeSysfs();
  readonly root = this.sysfs.root;
  readonly registry: DeviceRegistry;
  /** Functions hot-plugged once their wait is registered (announced by an `add` event). */
  readonly pending = new Map<string, FakeFunction>();
  /** Whether vfio-pci takes a function written to drivers_probe (false: the module is not loaded). */
  vfioLoaded = true;
  /** Every matcher awaited, in order. */
  readonly waited: string[] = [];
  #seqnum = 1000;

  private constructor(log: Logger) {
    this.registry = new DeviceRegistry({ log, sysfs: this.root, devfs: this.sysfs.dev });
    this.registry.setEventSource(true);
  }

  static async create(log: Logger): Promise<FakePciSysfs> {
    const fake = new FakePciSysfs(log);
    fake.sysfs.bridge(BRIDGE, "0000:02");
    for (const driver of ["vfio-pci", "ixgbevf", "virtio-pci"]) {
      await mkdir(fake.#path(`/bus/pci/drivers/${driver}`), { recursive: true });
      await writeFile(fake.#path(`/bus/pci/drivers/${driver}/unbind`), "");
    }
    await writeFile(fake.#path("/bus/pci/drivers_probe"), "");
    await mkdir(fake.#path("/bus/pci/devices"), { recursive: true });
    return fake;
  }

  async remove(): Promise<void> {
    this.sysfs.close();
  }

  /** A DeviceContext waiting on this tree, whose waits make the kernel act. */
  context(log: Logger, timeoutMs = 300, signal?: AbortSignal): DeviceContext {
    const devices: DeviceWaiter = {
      waitFor: (matcher, options) => {
        const waiting = this.registry.waitFor(matcher, options);
        this.waited.push(matcher.description);
        void this.#act(matcher.description);
        return waiting;
      },
    };
    return { devices, sysfs: this.root, timeoutMs, signal, log };
  }

  #path(inside: string): string {
    return join(this.root, inside);
  }

  /** The function's device path. */
  devpath(bdf: string): string {
    return `${BRIDGE}/${bdf}`;
  }

  /** Adds a function to the tree now (cold-plugged, or plugged before anyone waited). */
  async plug(fn: FakeFunction): Promise<void> {
    this.sysfs.device(this.devpath(fn.bdf), "pci", { PCI_SLOT_NAME: fn.bdf, PCI_ID: "1234:11E8" });
    const dir = this.#path(this.devpath(fn.bdf));
    const up = "../../../..";
    await writeFile(join(dir, "driver_override"), fn.override ?? "(null)\n");
    if (fn.driver) await symlink(`${up}/bus/pci/drivers/${fn.driver}`, join(dir, "driver"));
    if (fn.group) {
      await mkdir(this.#path(`/kernel/iommu_groups/${fn.group}/devices`), { recursive: true });
      await symlink(`${up}/kernel/iommu_groups/${fn.group}`, join(dir, "iommu_group"));
    }
    await symlink(`../../..${this.devpath(fn.bdf)}`, this.#path(`/bus/pci/devices/${fn.bdf}`));
  }

  /** What a file of the tree reads ("" when it is not there). */
  read(inside: string): Promise<string> {
    return readFile(this.#path(inside), "utf8").catch(() => "");
  }

  /** The name of the driver bound to `bdf`, as its link says. */
  async driverOf(bdf: string): Promise<string | undefined> {
    const target = await readlink(this.#path(`${this.devpath(bdf)}/driver`)).catch(() => undefined);
    return target?.split("/").at(-1);
  }

  async #act(description: string): Promise<void> {
    for (const [bdf, fn] of this.pending) {
      if (!description.includes(`(${this.devpath(bdf)})`)) continue;
      this.pending.delete(bdf);
      await this.plug(fn);
      this.registry.handle(event("add", this.devpath(bdf), "pci", { seqnum: this.#seqnum++ }));
    }
    const group = /^the VFIO group ([0-9]+)$/.exec(description)?.[1];
    if (group !== undefined) await this.#bindProbed(group);
  }

  /**
   * What the kernel did with the functions of `group` once one was written to drivers_probe: vfio-pci took
   * each whose driver_override names it, and made the group's node.
   */
  async #bindProbed(group: string): Promise<void> {
    if (!this.vfioLoaded || (await this.read("/bus/pci/drivers_probe")) === "") return;
    let bound = 0;
    for (const bdf of await readdir(this.#path("/bus/pci/devices"))) {
      const dir = this.#path(this.devpath(bdf));
      const inGroup = (await readlink(join(dir, "iommu_group")).catch(() => "")).endsWith(`/${group}`);
      if (!inGroup || (await this.read(`${this.devpath(bdf)}/driver_override`)) !== "vfio-pci") continue;
      await unlink(join(dir, "driver")).catch(() => {});
      await symlink("../../../../bus/pci/drivers/vfio-pci", join(dir, "driver"));
      bound++;
    }
    if (bound > 0) await this.addGroup(group);
  }

  /** Makes the node of VFIO group `group` (its sysfs device and /dev entry), and announces it. */
  async addGroup(group: string): Promise<void> {
    const vfio = `/devices/virtual/vfio/${group}`;
    await mkdir(this.#path("dev/vfio"), { recursive: true });
    this.sysfs.device(vfio, "vfio", { MAJOR: `${VFIO_MAJOR}`, MINOR: "0", DEVNAME: `vfio/${group}` });
    await writeFile(this.#path(`${vfio}/dev`), `${VFIO_MAJOR}:0\n`);
    this.registry.handle(event("add", vfio, "vfio", { devname: `vfio/${group}`, seqnum: this.#seqnum++ }));
  }
}
