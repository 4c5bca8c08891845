import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import type { Uevent } from "./uevent.js";

/**
 * A sysfs tree in a temp dir, shaped as the kernel shapes the parts berth reads: device directories with
 * a `uevent` file and a `subsystem` link, bridges with `pci_bus/<bus>`, `class/<cls>/<name>` links.
 */
export class FakeSysfs {
  readonly root = mkdtempSync(join(tmpdir(), "berth-fake-sysfs-"));
  readonly dev = join(this.root, "dev");

  constructor() {
    mkdirSync(this.dev);
  }

  /** A device at `devpath`; a block device also gets its node under `dev` and its class link. */
  device(devpath: string, subsystem: string, fields: Record<string, string> = {}): void {
    const dir = join(this.root, devpath);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "uevent"),
      Object.entries(fields)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(""),
    );
    mkdirSync(join(this.root, "bus", subsystem), { recursive: true });
    symlinkSync(relative(dir, join(this.root, "bus", subsystem)), join(dir, "subsystem"));
    if (fields.DEVNAME) writeFileSync(join(this.dev, fields.DEVNAME), "");
    if (subsystem === "block") this.classLink("block", devpath);
    if (subsystem === "scsi_host") this.classLink("scsi_host", devpath);
  }

  /** A PCI bridge at `devpath` whose secondary bus is `bus` ("0000:02"). */
  bridge(devpath: string, bus: string): void {
    this.device(devpath, "pci");
    mkdirSync(join(this.root, devpath, "pci_bus", bus), { recursive: true });
  }

  classLink(cls: string, devpath: string): void {
    const link = join(this.root, "class", cls, devpath.split("/").at(-1) ?? "");
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(relative(dirname(link), join(this.root, devpath)), link);
  }

  remove(devpath: string): void {
    rmSync(join(this.root, devpath), { recursive: true, force: true });
  }

  close(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** A kernel event as the listener hands it to the registry. */
export function event(
  action: string,
  devpath: string,
  subsystem: string,
  fields: Partial<Uevent> = {},
): Uevent {
  return { action, devpath, subsystem, devname: "", interface: "", seqnum: 1, ...fields };
}
