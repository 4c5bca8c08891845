import type { MessageInitShape } from "@bufbuild/protobuf";
import { READONLY_PATHS, standardMounts } from "../../src/ctl/default-spec.js";
import type { Mount, SpecSchema } from "../../src/protocol/gen/oci_pb.js";

type MountInit = Pick<Mount, "destination" | "source" | "type" | "options">;

export interface SpecOptions {
  rootfs: string;
  args: string[];
  readonlyRoot?: boolean;
  /** Extra mounts after the standard ones (e.g. a host directory at /out for results). */
  mounts?: MountInit[];
  rlimits?: { type: string; hard: bigint; soft: bigint }[];
  sysctl?: Record<string, string>;
  cpus?: string;
  /** Memory limit and memory+swap limit, in bytes (equal: no swap). */
  memory?: { limit: bigint; swap: bigint };
  cgroupsPath?: string;
  terminal?: boolean;
  /** Device nodes, with the host's numbers (the agent rewrites them to the guest's). */
  devices?: { path: string; type: string; major: bigint; minor: bigint }[];
  /** Extra namespaces (the agent adds ipc, uts and pid itself). */
  namespaces?: { type: string; path?: string }[];
  /** OCI prestart hooks, run by runc create in the agent's namespaces (e.g. to make a create slow). */
  prestart?: { path: string; args: string[] }[];
  annotations?: Record<string, string>;
}

const CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];

/** A spec as a Kata runtime sends it for a busybox container (runc's defaults, no network or pid ns). */
export function containerSpec(o: SpecOptions): MessageInitShape<typeof SpecSchema> {
  return {
    Version: "1.0.2",
    Process: {
      Terminal: o.terminal ?? false,
      User: { UID: 0, GID: 0 },
      Args: o.args,
      Env: ["PATH=/bin", "TERM=xterm"],
      Cwd: "/",
      Capabilities: { Bounding: CAPS, Effective: CAPS, Permitted: CAPS },
      Rlimits: (o.rlimits ?? [{ type: "RLIMIT_NOFILE", hard: 1024n, soft: 1024n }]).map((r) => ({
        Type: r.type,
        Hard: r.hard,
        Soft: r.soft,
      })),
      NoNewPrivileges: true,
    },
    Root: { Path: o.rootfs, Readonly: o.readonlyRoot ?? false },
    ...(o.prestart ? { Hooks: { Prestart: o.prestart.map((h) => ({ Path: h.path, Args: h.args })) } } : {}),
    Mounts: [...standardMounts(), ...(o.mounts ?? [])],
    ...(o.annotations ? { Annotations: o.annotations } : {}),
    Linux: {
      Namespaces: [
        { Type: "mount" },
        ...(o.namespaces ?? []).map((n) => ({ Type: n.type, Path: n.path ?? "" })),
      ],
      CgroupsPath: o.cgroupsPath ?? "",
      Devices: (o.devices ?? []).map((d) => ({
        Path: d.path,
        Type: d.type,
        Major: d.major,
        Minor: d.minor,
        FileMode: 0o660,
      })),
      Sysctl: o.sysctl ?? {},
      Resources: {
        Devices: [{ Allow: false, Access: "rwm" }],
        ...(o.cpus ? { CPU: { Cpus: o.cpus } } : {}),
        ...(o.memory ? { Memory: { Limit: o.memory.limit, Swap: o.memory.swap } } : {}),
      },
      MaskedPaths: ["/proc/kcore", "/proc/keys", "/proc/timer_list"],
      ReadonlyPaths: [...READONLY_PATHS],
    },
  };
}

/** A bind mount of a host directory into the container. */
export const bindInto = (source: string, destination: string, readonly = false): MountInit => ({
  destination,
  source,
  type: "bind",
  options: ["rbind", readonly ? "ro" : "rw"],
});
