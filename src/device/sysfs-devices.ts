import { readdir, readlink } from "node:fs/promises";
import { basename, posix } from "node:path";
import { readKernelFile } from "../sys/read-kernel-file.js";
import { type Uevent, ueventFromSysfs } from "./uevent.js";

const MAX_UEVENT_FILE = 8192;

/**
 * The guest's devices as sysfs shows them now, under a configurable root: what a matcher reads to find a
 * device that is already there (cold-plugged, or added before anyone waited).
 */
export class SysfsDevices {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  /** The `add` event the device at `devpath` would have sent; undefined when it is not (or no longer) there. */
  async device(devpath: string): Promise<Uevent | undefined> {
    const dir = `${this.root}${devpath}`;
    try {
      const [file, subsystem] = await Promise.all([
        readKernelFile(`${dir}/uevent`, MAX_UEVENT_FILE),
        readlink(`${dir}/subsystem`).then(basename, () => ""),
      ]);
      return ueventFromSysfs(devpath, file, subsystem);
    } catch {
      return undefined;
    }
  }

  /** The names of the directories in `devpath` matching `pattern` (none when it is not there). */
  async children(devpath: string, pattern: RegExp): Promise<string[]> {
    try {
      const entries = await readdir(`${this.root}${devpath}`, { withFileTypes: true });
      return entries.filter((e) => e.isDirectory() && pattern.test(e.name)).map((e) => e.name);
    } catch {
      return [];
    }
  }

  /**
   * The device path a `/sys/class/<cls>/<name>` link points to ("/devices/…/block/vda"), or undefined when
   * there is no such entry.
   */
  async classDevice(cls: string, name: string): Promise<string | undefined> {
    const link = `/class/${cls}/${name}`;
    try {
      const target = await readlink(`${this.root}${link}`);
      const devpath = posix.resolve(posix.dirname(link), target);
      return devpath.startsWith("/devices/") ? devpath : undefined;
    } catch {
      return undefined;
    }
  }

  /** The names in `/sys/class/<cls>`. */
  async classNames(cls: string): Promise<string[]> {
    try {
      return await readdir(`${this.root}/class/${cls}`);
    } catch {
      return [];
    }
  }
}
