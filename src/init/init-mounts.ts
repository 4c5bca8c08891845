/** A filesystem PID 1 mounts before anything else, as Kata's agent does (INIT_ROOTFS_MOUNTS). */
export interface InitMount {
  source: string;
  target: string;
  fsType: string;
  options: string[];
  /** Mount it even when something is there already: /proc must show this PID namespace. */
  always?: boolean;
}

export const INIT_MOUNTS: readonly InitMount[] = [
  { source: "proc", target: "/proc", fsType: "proc", options: ["nosuid", "nodev", "noexec"], always: true },
  { source: "sysfs", target: "/sys", fsType: "sysfs", options: ["nosuid", "nodev", "noexec"] },
  { source: "dev", target: "/dev", fsType: "devtmpfs", options: ["nosuid"] },
  { source: "tmpfs", target: "/dev/shm", fsType: "tmpfs", options: ["nosuid", "nodev"] },
  {
    source: "devpts",
    target: "/dev/pts",
    fsType: "devpts",
    options: ["nosuid", "noexec", "gid=5", "mode=0620", "ptmxmode=0666"],
  },
  { source: "tmpfs", target: "/run", fsType: "tmpfs", options: ["nosuid", "nodev"] },
];

/** An enabled controller from /proc/cgroups, with the hierarchy it is bound to (0: none yet). */
export interface Controller {
  name: string;
  hierarchy: number;
}

export function enabledControllers(procCgroups: string): Controller[] {
  const found: Controller[] = [];
  for (const line of procCgroups.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const [name, hierarchy, , enabled] = line.split(/\s+/);
    if (name && enabled === "1") found.push({ name, hierarchy: Number(hierarchy) || 0 });
  }
  return found;
}

/** Controllers systemd and Kata mount together when the kernel has not bound them yet. */
const PAIRED: Readonly<Record<string, string>> = {
  cpu: "cpu,cpuacct",
  cpuacct: "cpu,cpuacct",
  net_cls: "net_cls,net_prio",
  net_prio: "net_cls,net_prio",
};

/**
 * The cgroup mounts: the v2 unified tree when asked for (`systemd.unified_cgroup_hierarchy=1` or
 * `cgroup_no_v1=all` on the kernel command line), else a tmpfs with one v1 hierarchy per group of
 * controllers. Controllers already bound to a hierarchy keep their grouping (the kernel refuses any
 * other: EBUSY); unbound ones are grouped as systemd does (cpu with cpuacct, net_cls with net_prio).
 */
export function cgroupMounts(controllers: readonly Controller[], unified: boolean): InitMount[] {
  const root = "/sys/fs/cgroup";
  const options = ["nosuid", "nodev", "noexec"];
  if (unified) return [{ source: "cgroup2", target: root, fsType: "cgroup2", options }];
  const groups = new Map<string, string[]>();
  for (const c of controllers) {
    const boundWith = controllers
      .filter((o) => c.hierarchy > 0 && o.hierarchy === c.hierarchy)
      .map((o) => o.name);
    const pair = (PAIRED[c.name] ?? c.name)
      .split(",")
      .filter((n) => controllers.some((o) => o.name === n && o.hierarchy === 0));
    const group = (c.hierarchy > 0 ? boundWith : pair).join(",");
    if (!groups.has(group)) groups.set(group, group.split(","));
  }
  return [
    { source: "tmpfs", target: root, fsType: "tmpfs", options: [...options, "mode=755"] },
    ...[...groups].map(([group, names]) => ({
      source: "cgroup",
      target: `${root}/${group}`,
      fsType: "cgroup",
      options: [...options, ...names],
    })),
  ];
}
