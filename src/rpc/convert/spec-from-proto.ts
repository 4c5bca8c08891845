import type * as oci from "../../oci/oci-spec.js";
import type * as pb from "../../protocol/gen/oci_pb.js";

/*
 * Rules (after Kata's trans.rs): a proto3 zero value ("", 0, false, [], {}) means "unset" and the
 * OCI member is omitted; an absent message is omitted, a present one is emitted even when empty
 * (an empty `capabilities` drops every capability, an absent one leaves runc's defaults). Members
 * runtime-spec marks REQUIRED are emitted as given, zero included, and left for runc to validate.
 * Only zero means unset: negative values such as -1 ("unlimited") pass through. 64-bit values are
 * numbers while they are safe integers and exact bigints beyond (oci.Int64): real specs carry
 * RLIM_INFINITY rlimits, uint64 seccomp masks and -1 sent as uint64, which a double would round.
 */

const DEFAULT_OCI_VERSION = "1.0.2";

/**
 * Converts the agent protocol's `grpc.Spec` into an OCI runtime-spec config for runc. Pure and total:
 * every message converts. Serialise the result with `specToJson`, which prints bigints exactly.
 */
export function ociSpecFromProto(spec: pb.Spec): oci.Spec {
  return {
    ociVersion: spec.Version || DEFAULT_OCI_VERSION,
    ...set("process", spec.Process && processFromProto(spec.Process)),
    ...set("root", spec.Root && rootFromProto(spec.Root)),
    ...set("hostname", spec.Hostname),
    ...set("mounts", spec.Mounts.map(mountFromProto)),
    ...set("hooks", spec.Hooks && hooksFromProto(spec.Hooks)),
    ...set("annotations", record(spec.Annotations)),
    ...set("linux", spec.Linux && linuxFromProto(spec.Linux)),
  };
}

/** Converts a `grpc.Process` (a spec's, or an exec request's). */
export function processFromProto(p: pb.Process): oci.Process {
  return {
    ...set("terminal", p.Terminal),
    ...set("consoleSize", p.ConsoleSize && { height: p.ConsoleSize.Height, width: p.ConsoleSize.Width }),
    user: {
      uid: p.User?.UID ?? 0,
      gid: p.User?.GID ?? 0,
      ...set("additionalGids", [...(p.User?.AdditionalGids ?? [])]),
      ...set("username", p.User?.Username),
    },
    args: [...p.Args],
    ...set("env", [...p.Env]),
    cwd: p.Cwd || "/",
    ...set("capabilities", p.Capabilities && capabilitiesFromProto(p.Capabilities)),
    ...set("rlimits", p.Rlimits.map(rlimitFromProto)),
    ...set("noNewPrivileges", p.NoNewPrivileges),
    ...set("apparmorProfile", p.ApparmorProfile),
    ...setInt("oomScoreAdj", p.OOMScoreAdj),
    ...set("selinuxLabel", p.SelinuxLabel),
  };
}

function capabilitiesFromProto(c: pb.LinuxCapabilities): oci.LinuxCapabilities {
  return {
    ...set("bounding", [...c.Bounding]),
    ...set("effective", [...c.Effective]),
    ...set("inheritable", [...c.Inheritable]),
    ...set("permitted", [...c.Permitted]),
    ...set("ambient", [...c.Ambient]),
  };
}

function rlimitFromProto(r: pb.POSIXRlimit): oci.POSIXRlimit {
  return { type: r.Type, hard: int(r.Hard), soft: int(r.Soft) };
}

function rootFromProto(r: pb.Root): oci.Root {
  return { path: r.Path, ...set("readonly", r.Readonly) };
}

function mountFromProto(m: pb.Mount): oci.Mount {
  return {
    destination: m.destination,
    ...set("type", m.type),
    ...set("source", m.source),
    ...set("options", [...m.options]),
  };
}

function hooksFromProto(h: pb.Hooks): oci.Hooks {
  return {
    ...set("prestart", h.Prestart.map(hookFromProto)),
    ...set("createRuntime", h.CreateRuntime.map(hookFromProto)),
    ...set("createContainer", h.CreateContainer.map(hookFromProto)),
    ...set("startContainer", h.StartContainer.map(hookFromProto)),
    ...set("poststart", h.Poststart.map(hookFromProto)),
    ...set("poststop", h.Poststop.map(hookFromProto)),
  };
}

/** runtime-spec requires a timeout > 0; like Kata, a non-positive one is treated as unset. */
function hookFromProto(h: pb.Hook): oci.Hook {
  const timeout = int(h.Timeout);
  return {
    path: h.Path,
    ...set("args", [...h.Args]),
    ...set("env", [...h.Env]),
    ...(timeout > 0 ? { timeout } : {}),
  };
}

function linuxFromProto(l: pb.Linux): oci.Linux {
  return {
    ...set("namespaces", l.Namespaces.map(namespaceFromProto)),
    ...set("uidMappings", l.UIDMappings.map(idMappingFromProto)),
    ...set("gidMappings", l.GIDMappings.map(idMappingFromProto)),
    ...set("devices", l.Devices.map(deviceFromProto)),
    ...set("cgroupsPath", l.CgroupsPath),
    ...set("resources", l.Resources && resourcesFromProto(l.Resources)),
    ...set("intelRdt", l.IntelRdt && { ...set("l3CacheSchema", l.IntelRdt.L3CacheSchema) }),
    ...set("sysctl", record(l.Sysctl)),
    ...set("seccomp", l.Seccomp && seccompFromProto(l.Seccomp)),
    ...set("rootfsPropagation", l.RootfsPropagation),
    ...set("maskedPaths", [...l.MaskedPaths]),
    ...set("readonlyPaths", [...l.ReadonlyPaths]),
    ...set("mountLabel", l.MountLabel),
  };
}

function namespaceFromProto(ns: pb.LinuxNamespace): oci.LinuxNamespace {
  return { type: ns.Type, ...set("path", ns.Path) };
}

function idMappingFromProto(m: pb.LinuxIDMapping): oci.LinuxIDMapping {
  return { containerID: m.ContainerID, hostID: m.HostID, size: m.Size };
}

/** major/minor always (0 is a real number); zero uid/gid is runc's default anyway, a zero mode means 0666. */
function deviceFromProto(d: pb.LinuxDevice): oci.LinuxDevice {
  return {
    path: d.Path,
    type: d.Type,
    major: int(d.Major),
    minor: int(d.Minor),
    ...set("fileMode", d.FileMode),
    ...set("uid", d.UID),
    ...set("gid", d.GID),
  };
}

/** Converts a `grpc.LinuxResources` (a spec's, or an UpdateContainer request's). */
export function resourcesFromProto(r: pb.LinuxResources): oci.LinuxResources {
  return {
    ...set("devices", r.Devices.map(deviceCgroupFromProto)),
    ...set("memory", r.Memory && memoryFromProto(r.Memory)),
    ...set("cpu", r.CPU && cpuFromProto(r.CPU)),
    ...set("pids", r.Pids && { limit: int(r.Pids.Limit) }),
    ...set("blockIO", r.BlockIO && blockIOFromProto(r.BlockIO)),
    ...set("hugepageLimits", r.HugepageLimits.map(hugepageLimitFromProto)),
    ...set("network", r.Network && networkFromProto(r.Network)),
  };
}

/**
 * `allow` is always kept (false is a deny rule). Kata sends -1 for a wildcard major/minor; 0 on a
 * rule for all devices (type "a", or no type, which runc reads as "a") is a wildcard too. A 0 on a
 * "c" or "b" rule is a real device number and stays.
 */
function deviceCgroupFromProto(d: pb.LinuxDeviceCgroup): oci.LinuxDeviceCgroup {
  const allDevices = d.Type === "a" || d.Type === "";
  const id = (key: "major" | "minor", value: bigint) => {
    const n = int(value);
    return n === -1 || (n === 0 && allDevices) ? {} : { [key]: n };
  };
  return {
    allow: d.Allow,
    ...set("type", d.Type),
    ...id("major", d.Major),
    ...id("minor", d.Minor),
    ...set("access", d.Access),
  };
}

function memoryFromProto(m: pb.LinuxMemory): oci.LinuxMemory {
  return {
    ...setInt("limit", m.Limit),
    ...setInt("reservation", m.Reservation),
    ...setInt("swap", m.Swap),
    ...setInt("kernel", m.Kernel),
    ...setInt("kernelTCP", m.KernelTCP),
    ...setInt("swappiness", m.Swappiness),
    ...set("disableOOMKiller", m.DisableOOMKiller),
  };
}

function cpuFromProto(c: pb.LinuxCPU): oci.LinuxCPU {
  return {
    ...setInt("shares", c.Shares),
    ...setInt("quota", c.Quota),
    ...setInt("period", c.Period),
    ...setInt("realtimeRuntime", c.RealtimeRuntime),
    ...setInt("realtimePeriod", c.RealtimePeriod),
    ...set("cpus", c.Cpus),
    ...set("mems", c.Mems),
  };
}

function blockIOFromProto(b: pb.LinuxBlockIO): oci.LinuxBlockIO {
  return {
    ...set("weight", b.Weight),
    ...set("leafWeight", b.LeafWeight),
    ...set("weightDevice", b.WeightDevice.map(weightDeviceFromProto)),
    ...set("throttleReadBpsDevice", b.ThrottleReadBpsDevice.map(throttleFromProto)),
    ...set("throttleWriteBpsDevice", b.ThrottleWriteBpsDevice.map(throttleFromProto)),
    ...set("throttleReadIOPSDevice", b.ThrottleReadIOPSDevice.map(throttleFromProto)),
    ...set("throttleWriteIOPSDevice", b.ThrottleWriteIOPSDevice.map(throttleFromProto)),
  };
}

function weightDeviceFromProto(d: pb.LinuxWeightDevice): oci.LinuxWeightDevice {
  return {
    major: int(d.Major),
    minor: int(d.Minor),
    ...set("weight", d.Weight),
    ...set("leafWeight", d.LeafWeight),
  };
}

function throttleFromProto(d: pb.LinuxThrottleDevice): oci.LinuxThrottleDevice {
  return {
    major: int(d.Major),
    minor: int(d.Minor),
    rate: int(d.Rate),
  };
}

function hugepageLimitFromProto(h: pb.LinuxHugepageLimit): oci.LinuxHugepageLimit {
  return { pageSize: h.Pagesize, limit: int(h.Limit) };
}

function networkFromProto(n: pb.LinuxNetwork): oci.LinuxNetwork {
  const priorities = n.Priorities.map((p) => ({ name: p.Name, priority: p.Priority }));
  return { ...set("classID", n.ClassID), ...set("priorities", priorities) };
}

function seccompFromProto(s: pb.LinuxSeccomp): oci.LinuxSeccomp {
  return {
    defaultAction: s.DefaultAction,
    ...set("architectures", [...s.Architectures]),
    ...set("flags", [...s.Flags]),
    ...set("syscalls", s.Syscalls.map(syscallFromProto)),
  };
}

/** `errnoRet` is a oneof on the wire so that an explicit 0 survives; emitted whenever it is set. */
function syscallFromProto(c: pb.LinuxSyscall): oci.LinuxSyscall {
  return {
    names: [...c.Names],
    action: c.Action,
    ...(c.ErrnoRet.case === "errnoret" ? { errnoRet: c.ErrnoRet.value } : {}),
    ...set("args", c.Args.map(seccompArgFromProto)),
  };
}

function seccompArgFromProto(a: pb.LinuxSeccompArg): oci.LinuxSeccompArg {
  return {
    index: int(a.Index),
    value: int(a.Value),
    ...setInt("valueTwo", a.ValueTwo),
    op: a.Op,
  };
}

/** `{ [key]: value }`, or `{}` when value is unset: undefined, "", 0, false or an empty list. */
function set<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  if (value === undefined || value === "" || value === 0 || value === false) return {};
  if (Array.isArray(value) && value.length === 0) return {};
  return { [key]: value } as { [P in K]?: V };
}

/** {@link set} for a 64-bit field. */
function setInt<K extends string>(key: K, value: bigint): { [P in K]?: oci.Int64 } {
  return set(key, int(value));
}

/** A 64-bit protobuf value: a number when a double holds it exactly, otherwise the exact bigint. */
function int(value: bigint): oci.Int64 {
  return value <= MAX_SAFE && value >= -MAX_SAFE ? Number(value) : value;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A protobuf map as a plain object of own data properties ("__proto__" stays a key); {} → undefined. */
function record(map: { [key: string]: string }): Record<string, string> | undefined {
  const entries = Object.entries(map);
  return entries.length === 0 ? undefined : Object.fromEntries(entries);
}
