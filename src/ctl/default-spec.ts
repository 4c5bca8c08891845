import type { MessageInitShape } from "@bufbuild/protobuf";
import type { MountSchema } from "../protocol/gen/oci_pb.js";
import type { SpecInit } from "./spec-from-oci.js";

type MountInit = MessageInitShape<typeof MountSchema>;

export const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Docker's default capability set: root in the container can chown, bind low ports, setuid, ... */
const CAPABILITIES = [
  "CAP_AUDIT_WRITE",
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_MKNOD",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_RAW",
  "CAP_SETFCAP",
  "CAP_SETGID",
  "CAP_SETPCAP",
  "CAP_SETUID",
  "CAP_SYS_CHROOT",
];

/**
 * The file systems every container gets: /proc, /dev, /dev/pts, /dev/shm and a read-only /sys (runc's
 * set). Fresh objects each call, as specs are edited in place.
 */
export const standardMounts = (): MountInit[] => [
  { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
  {
    destination: "/dev",
    type: "tmpfs",
    source: "tmpfs",
    options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
  },
  {
    destination: "/dev/pts",
    type: "devpts",
    source: "devpts",
    options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
  },
  {
    destination: "/dev/shm",
    type: "tmpfs",
    source: "shm",
    options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
  },
  { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
];

/** Kernel interfaces a container may read but not change (runc's defaults). */
export const READONLY_PATHS: readonly string[] = [
  "/proc/bus",
  "/proc/fs",
  "/proc/irq",
  "/proc/sys",
  "/proc/sysrq-trigger",
];

/**
 * The spec berthctl run gives a plain root filesystem directory: root user, the usual /proc, /dev,
 * /dev/pts, /dev/shm and read-only /sys mounts, runc's masked paths, and only a mount namespace of its
 * own (the agent adds the sandbox's IPC and UTS namespaces and a PID namespace; containers share the
 * VM's network). The command, environment and terminal come from the run options.
 */
export function defaultSpec(rootfs: string, readonly: boolean): SpecInit {
  return {
    Version: "1.0.2",
    Process: {
      User: { UID: 0, GID: 0 },
      Env: [DEFAULT_PATH],
      Cwd: "/",
      Capabilities: { Bounding: CAPABILITIES, Effective: CAPABILITIES, Permitted: CAPABILITIES },
      Rlimits: [{ Type: "RLIMIT_NOFILE", Hard: 1024n, Soft: 1024n }],
      NoNewPrivileges: true,
    },
    Root: { Path: rootfs, Readonly: readonly },
    Mounts: standardMounts(),
    Linux: {
      Namespaces: [{ Type: "mount" }],
      Resources: { Devices: [{ Allow: false, Major: -1n, Minor: -1n, Access: "rwm" }] },
      MaskedPaths: [
        "/proc/acpi",
        "/proc/asound",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/proc/sched_debug",
        "/proc/scsi",
        "/sys/firmware",
      ],
      ReadonlyPaths: [...READONLY_PATHS],
    },
  };
}
