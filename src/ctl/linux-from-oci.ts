import type { MessageInitShape } from "@bufbuild/protobuf";
import type {
  LinuxBlockIOSchema,
  LinuxDeviceCgroupSchema,
  LinuxIDMappingSchema,
  LinuxResourcesSchema,
  LinuxSchema,
  LinuxSeccompSchema,
  LinuxThrottleDeviceSchema,
} from "../protocol/gen/oci_pb.js";
import type { JsonFields } from "./json-fields.js";

/** Converts a config.json `linux` (see spec-from-oci.ts for the rules). */
export function linuxFromOci(l: JsonFields): MessageInitShape<typeof LinuxSchema> {
  const resources = l.object("resources");
  const seccomp = l.object("seccomp");
  const intelRdt = l.object("intelRdt");
  return {
    UIDMappings: l.objects("uidMappings").map(idMappingFromOci),
    GIDMappings: l.objects("gidMappings").map(idMappingFromOci),
    Sysctl: l.stringMap("sysctl"),
    ...(resources ? { Resources: resourcesFromOci(resources) } : {}),
    CgroupsPath: l.string("cgroupsPath"),
    Namespaces: l.objects("namespaces").map((ns) => ({ Type: ns.string("type"), Path: ns.string("path") })),
    Devices: l.objects("devices").map((d) => ({
      Path: d.string("path"),
      Type: d.string("type"),
      Major: d.int64("major"),
      Minor: d.int64("minor"),
      FileMode: d.uint32("fileMode"),
      UID: d.uint32("uid"),
      GID: d.uint32("gid"),
    })),
    ...(seccomp ? { Seccomp: seccompFromOci(seccomp) } : {}),
    RootfsPropagation: l.string("rootfsPropagation"),
    MaskedPaths: l.strings("maskedPaths"),
    ReadonlyPaths: l.strings("readonlyPaths"),
    MountLabel: l.string("mountLabel"),
    ...(intelRdt ? { IntelRdt: { L3CacheSchema: intelRdt.string("l3CacheSchema") } } : {}),
  };
}

function idMappingFromOci(m: JsonFields): MessageInitShape<typeof LinuxIDMappingSchema> {
  return { ContainerID: m.uint32("containerID"), HostID: m.uint32("hostID"), Size: m.uint32("size") };
}

function resourcesFromOci(r: JsonFields): MessageInitShape<typeof LinuxResourcesSchema> {
  const memory = r.object("memory");
  const cpu = r.object("cpu");
  const pids = r.object("pids");
  const blockIO = r.object("blockIO");
  const network = r.object("network");
  return {
    Devices: r.objects("devices").map(deviceRuleFromOci),
    ...(memory
      ? {
          Memory: {
            Limit: memory.int64("limit"),
            Reservation: memory.int64("reservation"),
            Swap: memory.int64("swap"),
            Kernel: memory.int64("kernel"),
            KernelTCP: memory.int64("kernelTCP"),
            Swappiness: memory.uint64("swappiness"),
            DisableOOMKiller: memory.bool("disableOOMKiller"),
          },
        }
      : {}),
    ...(cpu
      ? {
          CPU: {
            Shares: cpu.uint64("shares"),
            Quota: cpu.int64("quota"),
            Period: cpu.uint64("period"),
            RealtimeRuntime: cpu.int64("realtimeRuntime"),
            RealtimePeriod: cpu.uint64("realtimePeriod"),
            Cpus: cpu.string("cpus"),
            Mems: cpu.string("mems"),
          },
        }
      : {}),
    ...(pids ? { Pids: { Limit: pids.int64("limit") } } : {}),
    ...(blockIO ? { BlockIO: blockIOFromOci(blockIO) } : {}),
    HugepageLimits: r
      .objects("hugepageLimits")
      .map((h) => ({ Pagesize: h.string("pageSize"), Limit: h.uint64("limit") })),
    ...(network
      ? {
          Network: {
            ClassID: network.uint32("classID"),
            Priorities: network
              .objects("priorities")
              .map((p) => ({ Name: p.string("name"), Priority: p.uint32("priority") })),
          },
        }
      : {}),
  };
}

/** An absent major or minor is a wildcard, which Kata sends as -1. */
function deviceRuleFromOci(d: JsonFields): MessageInitShape<typeof LinuxDeviceCgroupSchema> {
  return {
    Allow: d.bool("allow"),
    Type: d.string("type"),
    Major: d.int64("major", -1n),
    Minor: d.int64("minor", -1n),
    Access: d.string("access"),
  };
}

function blockIOFromOci(b: JsonFields): MessageInitShape<typeof LinuxBlockIOSchema> {
  const throttle = (key: string) => b.objects(key).map(throttleFromOci);
  return {
    Weight: b.uint32("weight"),
    LeafWeight: b.uint32("leafWeight"),
    WeightDevice: b.objects("weightDevice").map((w) => ({
      Major: w.int64("major"),
      Minor: w.int64("minor"),
      Weight: w.uint32("weight"),
      LeafWeight: w.uint32("leafWeight"),
    })),
    ThrottleReadBpsDevice: throttle("throttleReadBpsDevice"),
    ThrottleWriteBpsDevice: throttle("throttleWriteBpsDevice"),
    ThrottleReadIOPSDevice: throttle("throttleReadIOPSDevice"),
    ThrottleWriteIOPSDevice: throttle("throttleWriteIOPSDevice"),
  };
}

function throttleFromOci(t: JsonFields): MessageInitShape<typeof LinuxThrottleDeviceSchema> {
  return { Major: t.int64("major"), Minor: t.int64("minor"), Rate: t.uint64("rate") };
}

function seccompFromOci(s: JsonFields): MessageInitShape<typeof LinuxSeccompSchema> {
  return {
    DefaultAction: s.string("defaultAction"),
    Architectures: s.strings("architectures"),
    Flags: s.strings("flags"),
    Syscalls: s.objects("syscalls").map((c) => ({
      Names: c.strings("names"),
      Action: c.string("action"),
      ...(c.has("errnoRet") ? { ErrnoRet: { case: "errnoret" as const, value: c.uint32("errnoRet") } } : {}),
      Args: c.objects("args").map((a) => ({
        Index: a.uint64("index"),
        Value: a.uint64("value"),
        ValueTwo: a.uint64("valueTwo"),
        Op: a.string("op"),
      })),
    })),
  };
}
