/** Linux mount(2) flags (include/uapi/linux/mount.h). */
export const MountFlag = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  SYNCHRONOUS: 16,
  REMOUNT: 32,
  MANDLOCK: 64,
  DIRSYNC: 128,
  NOSYMFOLLOW: 256,
  NOATIME: 1024,
  NODIRATIME: 2048,
  BIND: 4096,
  REC: 16_384,
  SILENT: 32_768,
  UNBINDABLE: 1 << 17,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
  RELATIME: 1 << 21,
  STRICTATIME: 1 << 24,
  LAZYTIME: 1 << 25,
} as const;

const F = MountFlag;

/** Option → [flags it sets, flags it clears]. */
const FLAG_OPTIONS: Readonly<Record<string, readonly [number, number]>> = {
  ro: [F.RDONLY, 0],
  rw: [0, F.RDONLY],
  nosuid: [F.NOSUID, 0],
  suid: [0, F.NOSUID],
  nodev: [F.NODEV, 0],
  dev: [0, F.NODEV],
  noexec: [F.NOEXEC, 0],
  exec: [0, F.NOEXEC],
  sync: [F.SYNCHRONOUS, 0],
  async: [0, F.SYNCHRONOUS],
  remount: [F.REMOUNT, 0],
  mand: [F.MANDLOCK, 0],
  nomand: [0, F.MANDLOCK],
  dirsync: [F.DIRSYNC, 0],
  nosymfollow: [F.NOSYMFOLLOW, 0],
  symfollow: [0, F.NOSYMFOLLOW],
  noatime: [F.NOATIME, 0],
  atime: [0, F.NOATIME],
  nodiratime: [F.NODIRATIME, 0],
  diratime: [0, F.NODIRATIME],
  bind: [F.BIND, 0],
  rbind: [F.BIND | F.REC, 0],
  silent: [F.SILENT, 0],
  loud: [0, F.SILENT],
  relatime: [F.RELATIME, 0],
  norelatime: [0, F.RELATIME],
  strictatime: [F.STRICTATIME, 0],
  nostrictatime: [0, F.STRICTATIME],
  lazytime: [F.LAZYTIME, 0],
  nolazytime: [0, F.LAZYTIME],
  defaults: [0, 0],
};

const PROPAGATION_OPTIONS: Readonly<Record<string, number>> = {
  private: F.PRIVATE,
  rprivate: F.PRIVATE | F.REC,
  shared: F.SHARED,
  rshared: F.SHARED | F.REC,
  slave: F.SLAVE,
  rslave: F.SLAVE | F.REC,
  unbindable: F.UNBINDABLE,
  runbindable: F.UNBINDABLE | F.REC,
};

/** Whether `option` is one that sets or clears a mount flag ("nosuid", "rw", "relatime", …). */
export function isFlagOption(option: string): boolean {
  return Object.hasOwn(FLAG_OPTIONS, option);
}

export interface MountOptions {
  /** Flags for the mount call itself. */
  flags: number;
  /** Propagation changes, each a separate mount(2) call after the mount. */
  propagation: number[];
  /** Everything else, for the filesystem ("size=64m,mode=755"); empty when nothing is left. */
  data: string;
}

/**
 * Splits mount options the way mount(8) does: known flags into a flag word (later options win), propagation
 * options apart, the rest passed to the filesystem as data. Entries may themselves be comma lists.
 */
export function parseMountOptions(options: readonly string[]): MountOptions {
  let flags = 0;
  const propagation: number[] = [];
  const data: string[] = [];
  for (const option of options.flatMap((o) => o.split(","))) {
    const o = option.trim();
    if (!o) continue;
    const flag = FLAG_OPTIONS[o];
    const prop = PROPAGATION_OPTIONS[o];
    if (flag) flags = (flags | flag[0]) & ~flag[1];
    else if (prop !== undefined) propagation.push(prop);
    else data.push(o);
  }
  return { flags, propagation, data: data.join(",") };
}
