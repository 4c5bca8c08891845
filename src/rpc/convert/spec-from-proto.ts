import type * as oci from "../../container/oci-spec.js";
import { AgentError, Code } from "../../errors.js";
import type * as pb from "../../protocol/gen/oci_pb.js";

/*
 * Rules (after Kata's trans.rs): a proto3 zero value ("", 0, false, [], {}) means "unset" and the
 * OCI member is omitted; an absent message is omitted, a present one is emitted even when empty
 * (an empty `capabilities` drops every capability, an absent one leaves runc's defaults). Members
 * runtime-spec marks REQUIRED are emitted as given, zero included, and left for runc to validate.
 * Only zero means unset: negative values such as -1 ("unlimited") pass through.
 */

const DEFAULT_OCI_VERSION = "1.0.2";

/**
 * Converts the agent protocol's `grpc.Spec` into an OCI runtime-spec config for runc. Pure; throws
 * an INVALID_ARGUMENT AgentError naming the field when a 64-bit value does not fit a JSON number.
 */
export function ociSpecFromProto(spec: pb.Spec): oci.Spec {
  return {
    ociVersion: spec.Version || DEFAULT_OCI_VERSION,
    ...set("process", spec.Process && processFromProto(spec.Process, "process")),
    ...set("root", spec.Root && rootFromProto(spec.Root)),
    ...set("hostname", spec.Hostname),
    ...set("mounts", spec.Mounts.map(mountFromProto)),
    ...set("hooks", spec.Hooks && hooksFromProto(spec.Hooks)),
    ...set("annotations", record(spec.Annotations)),
    ...set("linux", spec.Linux && linuxFromProto(spec.Linux)),
  };
}

/** Converts a `grpc.Process`; `at` names it in errors ("process", or the exec request's field). */
export function processFromProto(p: pb.Process, at: string): oci.Process {
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
    ...set("rlimits", each(`${at}.rlimits`, p.Rlimits, rlimitFromProto)),
    ...set("noNewPrivileges", p.NoNewPrivileges),
    ...set("apparmorProfile", p.ApparmorProfile),
    ...setInt(at, "oomScoreAdj", p.OOMScoreAdj),
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

function rlimitFromProto(r: pb.POSIXRlimit, at: string): oci.POSIXRlimit {
  return { type: r.Type, hard: int(at, "hard", r.Hard), soft: int(at, "soft", r.Soft) };
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
    ...set("prestart", each("hooks.prestart", h.Prestart, hookFromProto)),
    ...set("createRuntime", each("hooks.createRuntime", h.CreateRuntime, hookFromProto)),
    ...set("createContainer", each("hooks.createContainer", h.CreateContainer, hookFromProto)),
    ...set("startContainer", each("hooks.startContainer", h.StartContainer, hookFromProto)),
    ...set("poststart", each("hooks.poststart", h.Poststart, hookFromProto)),
    ...set("poststop", each("hooks.poststop", h.Poststop, hookFromProto)),
  };
}

/** runtime-spec requires a timeout > 0; like Kata, a non-positive one is treated as unset. */
function hookFromProto(h: pb.Hook, at: string): oci.Hook {
  const timeout = int(at, "timeout", h.Timeout);
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
    ...set("devices", each("linux.devices", l.Devices, deviceFromProto)),
    ...set("cgroupsPath", l.CgroupsPath),
    ...set("resources", l.Resources && resourcesFromProto(l.Resources, "linux.resources")),
    ...set("intelRdt", l.IntelRdt && { ...set("l3CacheSchema", l.IntelRdt.L3CacheSchema) }),
    ...set("sysctl", record(l.Sysctl)),
    ...set("seccomp", l.Seccomp && seccompFromProto(l.Seccomp, "linux.seccomp")),
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
function deviceFromProto(d: pb.LinuxDevice, at: string): oci.LinuxDevice {
  return {
    path: d.Path,
    type: d.Type,
    major: int(at, "major", d.Major),
    minor: int(at, "minor", d.Minor),
    ...set("fileMode", d.FileMode),
    ...set("uid", d.UID),
    ...set("gid", d.GID),
  };
}

function resourcesFromProto(r: pb.LinuxResources, at: string): oci.LinuxResources {
  return {
    ...set("devices", each(`${at}.devices`, r.Devices, deviceCgroupFromProto)),
    ...set("memory", r.Memory && memoryFromProto(r.Memory, `${at}.memory`)),
    ...set("cpu", r.CPU && cpuFromProto(r.CPU, `${at}.cpu`)),
    ...set("pids", r.Pids && { limit: int(`${at}.pids`, "limit", r.Pids.Limit) }),
    ...set("blockIO", r.BlockIO && blockIOFromProto(r.BlockIO, `${at}.blockIO`)),
    ...set("hugepageLimits", each(`${at}.hugepageLimits`, r.HugepageLimits, hugepageLimitFromProto)),
    ...set("network", r.Network && networkFromProto(r.Network)),
  };
}

/**
 * `allow` is always kept (false is a deny rule). Kata sends -1 for a wildcard major/minor; 0 on a
 * rule for all devices (type "a", or no type, which runc reads as "a") is a wildcard too. A 0 on a
 * "c" or "b" rule is a real device number and stays.
 */
function deviceCgroupFromProto(d: pb.LinuxDeviceCgroup, at: string): oci.LinuxDeviceCgroup {
  const allDevices = d.Type === "a" || d.Type === "";
  const id = (key: "major" | "minor", value: bigint) => {
    const n = int(at, key, value);
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

function memoryFromProto(m: pb.LinuxMemory, at: string): oci.LinuxMemory {
  return {
    ...setInt(at, "limit", m.Limit),
    ...setInt(at, "reservation", m.Reservation),
    ...setInt(at, "swap", m.Swap),
    ...setInt(at, "kernel", m.Kernel),
    ...setInt(at, "kernelTCP", m.KernelTCP),
    ...setInt(at, "swappiness", m.Swappiness),
    ...set("disableOOMKiller", m.DisableOOMKiller),
  };
}

function cpuFromProto(c: pb.LinuxCPU, at: string): oci.LinuxCPU {
  return {
    ...setInt(at, "shares", c.Shares),
    ...setInt(at, "quota", c.Quota),
    ...setInt(at, "period", c.Period),
    ...setInt(at, "realtimeRuntime", c.RealtimeRuntime),
    ...setInt(at, "realtimePeriod", c.RealtimePeriod),
    ...set("cpus", c.Cpus),
    ...set("mems", c.Mems),
  };
}

function blockIOFromProto(b: pb.LinuxBlockIO, at: string): oci.LinuxBlockIO {
  const t = (name: string, devices: pb.LinuxThrottleDevice[]) =>
    each(`${at}.${name}`, devices, throttleFromProto);
  return {
    ...set("weight", b.Weight),
    ...set("leafWeight", b.LeafWeight),
    ...set("weightDevice", each(`${at}.weightDevice`, b.WeightDevice, weightDeviceFromProto)),
    ...set("throttleReadBpsDevice", t("throttleReadBpsDevice", b.ThrottleReadBpsDevice)),
    ...set("throttleWriteBpsDevice", t("throttleWriteBpsDevice", b.ThrottleWriteBpsDevice)),
    ...set("throttleReadIOPSDevice", t("throttleReadIOPSDevice", b.ThrottleReadIOPSDevice)),
    ...set("throttleWriteIOPSDevice", t("throttleWriteIOPSDevice", b.ThrottleWriteIOPSDevice)),
  };
}

function weightDeviceFromProto(d: pb.LinuxWeightDevice, at: string): oci.LinuxWeightDevice {
  return {
    major: int(at, "major", d.Major),
    minor: int(at, "minor", d.Minor),
    ...set("weight", d.Weight),
    ...set("leafWeight", d.LeafWeight),
  };
}

function throttleFromProto(d: pb.LinuxThrottleDevice, at: string): oci.LinuxThrottleDevice {
  return {
    major: int(at, "major", d.Major),
    minor: int(at, "minor", d.Minor),
    rate: int(at, "rate", d.Rate),
  };
}

function hugepageLimitFromProto(h: pb.LinuxHugepageLimit, at: string): oci.LinuxHugepageLimit {
  return { pageSize: h.Pagesize, limit: int(at, "limit", h.Limit) };
}

function networkFromProto(n: pb.LinuxNetwork): oci.LinuxNetwork {
  const priorities = n.Priorities.map((p) => ({ name: p.Name, priority: p.Priority }));
  return { ...set("classID", n.ClassID), ...set("priorities", priorities) };
}

function seccompFromProto(s: pb.LinuxSeccomp, at: string): oci.LinuxSeccomp {
  return {
    defaultAction: s.DefaultAction,
    ...set("architectures", [...s.Architectures]),
    ...set("flags", [...s.Flags]),
    ...set("syscalls", each(`${at}.syscalls`, s.Syscalls, syscallFromProto)),
  };
}

/** `errnoRet` is a oneof on the wire so that an explicit 0 survives; emitted whenever it is set. */
function syscallFromProto(c: pb.LinuxSyscall, at: string): oci.LinuxSyscall {
  return {
    names: [...c.Names],
    action: c.Action,
    ...(c.ErrnoRet.case === "errnoret" ? { errnoRet: c.ErrnoRet.value } : {}),
    ...set("args", each(`${at}.args`, c.Args, seccompArgFromProto)),
  };
}

function seccompArgFromProto(a: pb.LinuxSeccompArg, at: string): oci.LinuxSeccompArg {
  return {
    index: int(at, "index", a.Index),
    value: int(at, "value", a.Value),
    ...setInt(at, "valueTwo", a.ValueTwo),
    op: a.Op,
  };
}

/** Maps a repeated field, naming each element `at[i]` for error messages. */
function each<T, R>(at: string, items: readonly T[], convert: (item: T, at: string) => R): R[] {
  return items.map((item, i) => convert(item, `${at}[${i}]`));
}

/** `{ [key]: value }`, or `{}` when value is unset: undefined, "", 0, false or an empty list. */
function set<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  if (value === undefined || value === "" || value === 0 || value === false) return {};
  if (Array.isArray(value) && value.length === 0) return {};
  return { [key]: value } as { [P in K]?: V };
}

/** {@link set} for a 64-bit field. */
function setInt<K extends string>(at: string, key: K, value: bigint): { [P in K]?: number } {
  return set(key, int(at, key, value));
}

/** A 64-bit protobuf value as a JSON number; refuses one that a double cannot hold exactly. */
function int(at: string, key: string, value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      `OCI spec ${at}.${key}: ${value} does not fit in a JSON number (beyond ±2^53-1)`,
    );
  }
  return Number(value);
}

/** A protobuf map as a plain object of own data properties ("__proto__" stays a key); {} → undefined. */
function record(map: { [key: string]: string }): Record<string, string> | undefined {
  const entries = Object.entries(map);
  return entries.length === 0 ? undefined : Object.fromEntries(entries);
}
