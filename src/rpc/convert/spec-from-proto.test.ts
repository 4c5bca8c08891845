import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, fromBinary, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import type * as oci from "../../oci/oci-spec.js";
import { specToJson } from "../../oci/spec-json.js";
import { LinuxResourcesSchema, ProcessSchema, SpecSchema } from "../../protocol/gen/oci_pb.js";
import { ociSpecFromProto, processFromProto, resourcesFromProto } from "./spec-from-proto.js";

type SpecInit = MessageInitShape<typeof SpecSchema>;

function convert(init: SpecInit): oci.Spec {
  return ociSpecFromProto(create(SpecSchema, init));
}

/** Every field set to a distinctive non-zero value. */
const full: SpecInit = {
  Version: "1.1.0",
  Process: {
    Terminal: true,
    ConsoleSize: { Height: 24, Width: 80 },
    User: { UID: 1001, GID: 1002, AdditionalGids: [3, 4], Username: "app" },
    Args: ["/bin/app", "--serve"],
    Env: ["PATH=/usr/bin", "HOME=/home/app"],
    Cwd: "/srv",
    Capabilities: {
      Bounding: ["CAP_CHOWN"],
      Effective: ["CAP_KILL"],
      Inheritable: ["CAP_NET_RAW"],
      Permitted: ["CAP_SETUID"],
      Ambient: ["CAP_SETGID"],
    },
    Rlimits: [{ Type: "RLIMIT_NOFILE", Hard: 4096n, Soft: 1024n }],
    NoNewPrivileges: true,
    ApparmorProfile: "berth-default",
    OOMScoreAdj: -997n,
    SelinuxLabel: "system_u:system_r:container_t:s0",
  },
  Root: { Path: "/run/kata-containers/c1/rootfs", Readonly: true },
  Hostname: "pod-a",
  Mounts: [{ destination: "/data", source: "/run/data", type: "bind", options: ["rbind", "ro"] }],
  Hooks: {
    Prestart: [{ Path: "/hooks/prestart", Args: ["prestart", "-v"], Env: ["A=1"], Timeout: 5n }],
    Poststart: [{ Path: "/hooks/poststart" }],
    Poststop: [{ Path: "/hooks/poststop", Timeout: 7n }],
    CreateRuntime: [{ Path: "/hooks/create-runtime" }],
    CreateContainer: [{ Path: "/hooks/create-container" }],
    StartContainer: [{ Path: "/hooks/start-container", Args: ["start"] }],
  },
  Annotations: { "io.kubernetes.cri.container-type": "container", "io.katacontainers.pkg": "x" },
  Linux: {
    UIDMappings: [{ HostID: 100000, ContainerID: 0, Size: 65536 }],
    GIDMappings: [{ HostID: 200000, ContainerID: 1, Size: 1000 }],
    Sysctl: { "net.ipv4.ip_forward": "1", "kernel.shm_rmid_forced": "1" },
    Resources: {
      Devices: [{ Allow: true, Type: "c", Major: 10n, Minor: 200n, Access: "rwm" }],
      Memory: {
        Limit: 536_870_912n,
        Reservation: 268_435_456n,
        Swap: 1_073_741_824n,
        Kernel: 65_536n,
        KernelTCP: 32_768n,
        Swappiness: 60n,
        DisableOOMKiller: true,
      },
      CPU: {
        Shares: 512n,
        Quota: 50_000n,
        Period: 100_000n,
        RealtimeRuntime: 950n,
        RealtimePeriod: 1000n,
        Cpus: "0-1",
        Mems: "0",
      },
      Pids: { Limit: 4096n },
      BlockIO: {
        Weight: 500,
        LeafWeight: 300,
        WeightDevice: [{ Major: 8n, Minor: 0n, Weight: 600, LeafWeight: 200 }],
        ThrottleReadBpsDevice: [{ Major: 8n, Minor: 16n, Rate: 1_048_576n }],
        ThrottleWriteBpsDevice: [{ Major: 8n, Minor: 32n, Rate: 2_097_152n }],
        ThrottleReadIOPSDevice: [{ Major: 8n, Minor: 48n, Rate: 100n }],
        ThrottleWriteIOPSDevice: [{ Major: 8n, Minor: 64n, Rate: 200n }],
      },
      HugepageLimits: [{ Pagesize: "2MB", Limit: 209_715_200n }],
      Network: { ClassID: 0x100001, Priorities: [{ Name: "eth0", Priority: 3 }] },
    },
    CgroupsPath: "/kubepods/burstable/pod1/c1",
    Namespaces: [{ Type: "pid" }, { Type: "network", Path: "/var/run/netns/cni-1" }],
    Devices: [{ Path: "/dev/fuse", Type: "c", Major: 10n, Minor: 229n, FileMode: 0o666, UID: 5, GID: 6 }],
    Seccomp: {
      DefaultAction: "SCMP_ACT_ERRNO",
      Architectures: ["SCMP_ARCH_X86_64"],
      Flags: ["SECCOMP_FILTER_FLAG_LOG"],
      Syscalls: [
        {
          Names: ["personality"],
          Action: "SCMP_ACT_ALLOW",
          ErrnoRet: { case: "errnoret", value: 38 },
          Args: [{ Index: 1n, Value: 8n, ValueTwo: 255n, Op: "SCMP_CMP_MASKED_EQ" }],
        },
      ],
    },
    RootfsPropagation: "rslave",
    MaskedPaths: ["/proc/kcore"],
    ReadonlyPaths: ["/proc/sys"],
    MountLabel: "system_u:object_r:container_file_t:s0",
    IntelRdt: { L3CacheSchema: "L3:0=ff" },
  },
  Solaris: { dummy: "ignored" },
  Windows: { dummy: "ignored" },
};

const fullOci: oci.Spec = {
  ociVersion: "1.1.0",
  process: {
    terminal: true,
    consoleSize: { height: 24, width: 80 },
    user: { uid: 1001, gid: 1002, additionalGids: [3, 4], username: "app" },
    args: ["/bin/app", "--serve"],
    env: ["PATH=/usr/bin", "HOME=/home/app"],
    cwd: "/srv",
    capabilities: {
      bounding: ["CAP_CHOWN"],
      effective: ["CAP_KILL"],
      inheritable: ["CAP_NET_RAW"],
      permitted: ["CAP_SETUID"],
      ambient: ["CAP_SETGID"],
    },
    rlimits: [{ type: "RLIMIT_NOFILE", hard: 4096, soft: 1024 }],
    noNewPrivileges: true,
    apparmorProfile: "berth-default",
    oomScoreAdj: -997,
    selinuxLabel: "system_u:system_r:container_t:s0",
  },
  root: { path: "/run/kata-containers/c1/rootfs", readonly: true },
  hostname: "pod-a",
  mounts: [{ destination: "/data", type: "bind", source: "/run/data", options: ["rbind", "ro"] }],
  hooks: {
    prestart: [{ path: "/hooks/prestart", args: ["prestart", "-v"], env: ["A=1"], timeout: 5 }],
    createRuntime: [{ path: "/hooks/create-runtime" }],
    createContainer: [{ path: "/hooks/create-container" }],
    startContainer: [{ path: "/hooks/start-container", args: ["start"] }],
    poststart: [{ path: "/hooks/poststart" }],
    poststop: [{ path: "/hooks/poststop", timeout: 7 }],
  },
  annotations: { "io.kubernetes.cri.container-type": "container", "io.katacontainers.pkg": "x" },
  linux: {
    namespaces: [{ type: "pid" }, { type: "network", path: "/var/run/netns/cni-1" }],
    uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
    gidMappings: [{ containerID: 1, hostID: 200000, size: 1000 }],
    devices: [{ path: "/dev/fuse", type: "c", major: 10, minor: 229, fileMode: 0o666, uid: 5, gid: 6 }],
    cgroupsPath: "/kubepods/burstable/pod1/c1",
    resources: {
      devices: [{ allow: true, type: "c", major: 10, minor: 200, access: "rwm" }],
      memory: {
        limit: 536_870_912,
        reservation: 268_435_456,
        swap: 1_073_741_824,
        kernel: 65_536,
        kernelTCP: 32_768,
        swappiness: 60,
        disableOOMKiller: true,
      },
      cpu: {
        shares: 512,
        quota: 50_000,
        period: 100_000,
        realtimeRuntime: 950,
        realtimePeriod: 1000,
        cpus: "0-1",
        mems: "0",
      },
      pids: { limit: 4096 },
      blockIO: {
        weight: 500,
        leafWeight: 300,
        weightDevice: [{ major: 8, minor: 0, weight: 600, leafWeight: 200 }],
        throttleReadBpsDevice: [{ major: 8, minor: 16, rate: 1_048_576 }],
        throttleWriteBpsDevice: [{ major: 8, minor: 32, rate: 2_097_152 }],
        throttleReadIOPSDevice: [{ major: 8, minor: 48, rate: 100 }],
        throttleWriteIOPSDevice: [{ major: 8, minor: 64, rate: 200 }],
      },
      hugepageLimits: [{ pageSize: "2MB", limit: 209_715_200 }],
      network: { classID: 0x100001, priorities: [{ name: "eth0", priority: 3 }] },
    },
    intelRdt: { l3CacheSchema: "L3:0=ff" },
    sysctl: { "net.ipv4.ip_forward": "1", "kernel.shm_rmid_forced": "1" },
    seccomp: {
      defaultAction: "SCMP_ACT_ERRNO",
      architectures: ["SCMP_ARCH_X86_64"],
      flags: ["SECCOMP_FILTER_FLAG_LOG"],
      syscalls: [
        {
          names: ["personality"],
          action: "SCMP_ACT_ALLOW",
          errnoRet: 38,
          args: [{ index: 1, value: 8, valueTwo: 255, op: "SCMP_CMP_MASKED_EQ" }],
        },
      ],
    },
    rootfsPropagation: "rslave",
    maskedPaths: ["/proc/kcore"],
    readonlyPaths: ["/proc/sys"],
    mountLabel: "system_u:object_r:container_file_t:s0",
  },
};

describe("ociSpecFromProto()", () => {
  it("converts every field, with runtime-spec's member names, and ignores Solaris/Windows", () => {
    assert.deepEqual(convert(full), fullOci);
  });

  it("gives the same result for a spec that went over the wire", () => {
    const decoded = fromBinary(SpecSchema, toBinary(SpecSchema, create(SpecSchema, full)));
    assert.deepEqual(ociSpecFromProto(decoded), fullOci);
  });

  it("omits every unset field of an empty spec and defaults ociVersion", () => {
    assert.deepEqual(convert({}), { ociVersion: "1.0.2" });
  });

  it("keeps present-but-empty messages, with only their required members and defaults", () => {
    const spec = convert({
      Process: { Capabilities: {}, ConsoleSize: {} },
      Root: {},
      Hooks: { Poststop: [{}] },
      Mounts: [{}],
      Linux: {
        Namespaces: [{}],
        Devices: [{}],
        UIDMappings: [{}],
        Resources: {
          Devices: [{}],
          Memory: {},
          CPU: {},
          Pids: {},
          BlockIO: { WeightDevice: [{}], ThrottleReadBpsDevice: [{}] },
          HugepageLimits: [{}],
          Network: { Priorities: [{}] },
        },
        Seccomp: { Syscalls: [{ Args: [{}] }] },
        IntelRdt: {},
      },
    });
    assert.deepEqual(spec, {
      ociVersion: "1.0.2",
      process: {
        consoleSize: { height: 0, width: 0 },
        user: { uid: 0, gid: 0 },
        args: [],
        cwd: "/",
        capabilities: {},
      },
      root: { path: "" },
      mounts: [{ destination: "" }],
      hooks: { poststop: [{ path: "" }] },
      linux: {
        namespaces: [{ type: "" }],
        uidMappings: [{ containerID: 0, hostID: 0, size: 0 }],
        devices: [{ path: "", type: "", major: 0, minor: 0 }],
        resources: {
          devices: [{ allow: false }],
          memory: {},
          cpu: {},
          pids: { limit: 0 },
          blockIO: {
            weightDevice: [{ major: 0, minor: 0 }],
            throttleReadBpsDevice: [{ major: 0, minor: 0, rate: 0 }],
          },
          hugepageLimits: [{ pageSize: "", limit: 0 }],
          network: { priorities: [{ name: "", priority: 0 }] },
        },
        intelRdt: {},
        seccomp: {
          defaultAction: "",
          syscalls: [{ names: [], action: "", args: [{ index: 0, value: 0, op: "" }] }],
        },
      },
    });
  });

  it("emits user 0/0 (root) and cwd / for a process without them", () => {
    assert.deepEqual(convert({ Process: { Args: ["/pause"] } }).process, {
      user: { uid: 0, gid: 0 },
      args: ["/pause"],
      cwd: "/",
    });
    assert.deepEqual(convert({ Process: { User: { Username: "root" } } }).process?.user, {
      uid: 0,
      gid: 0,
      username: "root",
    });
  });

  it("passes negative values through: only zero means unset", () => {
    const spec = convert({
      Process: { OOMScoreAdj: -1000n },
      Linux: { Resources: { Memory: { Limit: -1n, Swap: -1n }, CPU: { Quota: -1n }, Pids: { Limit: -1n } } },
    });
    assert.equal(spec.process?.oomScoreAdj, -1000);
    assert.deepEqual(spec.linux?.resources, {
      memory: { limit: -1, swap: -1 },
      cpu: { quota: -1 },
      pids: { limit: -1 },
    });
  });

  it("emits errnoRet whenever the oneof is set, even to 0", () => {
    const syscalls = (init: SpecInit) => convert(init).linux?.seccomp?.syscalls;
    const rule = { Names: ["mkdir"], Action: "SCMP_ACT_ERRNO" };
    assert.deepEqual(
      syscalls({ Linux: { Seccomp: { Syscalls: [{ ...rule, ErrnoRet: { case: "errnoret", value: 0 } }] } } }),
      [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO", errnoRet: 0 }],
    );
    assert.deepEqual(syscalls({ Linux: { Seccomp: { Syscalls: [rule] } } }), [
      { names: ["mkdir"], action: "SCMP_ACT_ERRNO" },
    ]);
  });

  it("keeps allow: false and drops wildcard majors/minors from device cgroup rules", () => {
    const rules = convert({
      Linux: {
        Resources: {
          Devices: [
            { Allow: false, Access: "rwm" },
            { Allow: false, Type: "a", Major: -1n, Minor: -1n, Access: "rwm" },
            { Allow: false, Type: "a", Major: 0n, Minor: 0n, Access: "rwm" },
            { Allow: true, Type: "c", Major: 1n, Minor: -1n, Access: "mr" },
            { Allow: true, Type: "c", Major: -1n, Minor: 0n, Access: "m" },
            { Allow: true, Type: "b", Major: 0n, Minor: 0n, Access: "r" },
          ],
        },
      },
    }).linux?.resources?.devices;
    assert.deepEqual(rules, [
      { allow: false, access: "rwm" },
      { allow: false, type: "a", access: "rwm" },
      { allow: false, type: "a", access: "rwm" },
      { allow: true, type: "c", major: 1, access: "mr" },
      { allow: true, type: "c", minor: 0, access: "m" },
      { allow: true, type: "b", major: 0, minor: 0, access: "r" },
    ]);
  });

  it("always emits a device's major/minor but its file mode, uid and gid only when non-zero", () => {
    const devices = convert({ Linux: { Devices: [{ Path: "/dev/null", Type: "c", Major: 1n, Minor: 3n }] } });
    assert.deepEqual(devices.linux?.devices, [{ path: "/dev/null", type: "c", major: 1, minor: 3 }]);
  });

  it("drops a hook timeout that is not positive", () => {
    const hooks = convert({
      Hooks: {
        CreateRuntime: [
          { Path: "/a", Timeout: 0n },
          { Path: "/b", Timeout: -3n },
          { Path: "/c", Timeout: 30n },
        ],
      },
    }).hooks;
    assert.deepEqual(hooks, { createRuntime: [{ path: "/a" }, { path: "/b" }, { path: "/c", timeout: 30 }] });
  });

  it("takes ociVersion from the request when given", () => {
    assert.equal(convert({ Version: "1.0.2-dev" }).ociVersion, "1.0.2-dev");
  });

  it("copies maps into plain objects, keeping a __proto__ key as data", () => {
    const annotations = JSON.parse('{"__proto__": "evil", "a": "b"}') as Record<string, string>;
    const spec = convert({ Annotations: annotations, Linux: { Sysctl: {} } });
    assert.equal(Object.getPrototypeOf(spec.annotations), Object.prototype);
    assert.deepEqual(Object.entries(spec.annotations ?? {}), [
      ["__proto__", "evil"],
      ["a", "b"],
    ]);
    assert.equal(
      JSON.stringify(spec),
      '{"ociVersion":"1.0.2","annotations":{"__proto__":"evil","a":"b"},"linux":{}}',
    );
  });

  it("shares no arrays or objects with the request", () => {
    const message = create(SpecSchema, full);
    const spec = ociSpecFromProto(message);
    spec.process?.args?.push("--extra");
    spec.process?.user.additionalGids?.push(99);
    spec.linux?.maskedPaths?.push("/x");
    if (spec.annotations) spec.annotations.extra = "y";
    assert.deepEqual(ociSpecFromProto(message), fullOci);
  });

  it("gives 64-bit values up to 2^53-1 as plain numbers", () => {
    const max = BigInt(Number.MAX_SAFE_INTEGER);
    const spec = convert({ Linux: { Resources: { Memory: { Limit: max, Swap: -max } } } });
    assert.deepEqual(spec.linux?.resources?.memory, {
      limit: Number.MAX_SAFE_INTEGER,
      swap: -Number.MAX_SAFE_INTEGER,
    });
  });

  const u64Max = 2n ** 64n - 1n;
  for (const [init, field, read, exact] of [
    [
      { Linux: { Resources: { Memory: { Limit: 2n ** 53n } } } },
      "linux.resources.memory.limit",
      (s) => s.linux?.resources?.memory?.limit,
      2n ** 53n,
    ],
    [
      { Linux: { Resources: { CPU: { Quota: -(2n ** 53n) } } } },
      "linux.resources.cpu.quota",
      (s) => s.linux?.resources?.cpu?.quota,
      -(2n ** 53n),
    ],
    [
      { Process: { Rlimits: [{}, { Type: "RLIMIT_CORE", Hard: u64Max }] } },
      "process.rlimits[1].hard",
      (s) => s.process?.rlimits?.[1]?.hard,
      u64Max,
    ],
    [
      { Hooks: { Poststop: [{ Path: "/h", Timeout: 2n ** 60n }] } },
      "hooks.poststop[0].timeout",
      (s) => s.hooks?.poststop?.[0]?.timeout,
      2n ** 60n,
    ],
    [
      { Linux: { Resources: { BlockIO: { ThrottleWriteIOPSDevice: [{ Rate: 2n ** 63n }] } } } },
      "throttleWriteIOPSDevice[0].rate",
      (s) => s.linux?.resources?.blockIO?.throttleWriteIOPSDevice?.[0]?.rate,
      2n ** 63n,
    ],
    [
      { Linux: { Seccomp: { Syscalls: [{ Args: [{ Value: u64Max }] }] } } },
      "linux.seccomp.syscalls[0].args[0].value",
      (s) => s.linux?.seccomp?.syscalls?.[0]?.args?.[0]?.value,
      u64Max,
    ],
    [
      { Linux: { Resources: { HugepageLimits: [{ Pagesize: "1GB", Limit: u64Max }] } } },
      "linux.resources.hugepageLimits[0].limit",
      (s) => s.linux?.resources?.hugepageLimits?.[0]?.limit,
      u64Max,
    ],
    [
      { Linux: { Resources: { Memory: { Swappiness: u64Max } } } },
      "linux.resources.memory.swappiness (-1 sent as uint64)",
      (s) => s.linux?.resources?.memory?.swappiness,
      u64Max,
    ],
  ] satisfies [SpecInit, string, (s: oci.Spec) => oci.Int64 | undefined, bigint][]) {
    it(`keeps ${field} beyond 2^53-1 exact, as a bigint`, () => {
      assert.equal(read(convert(init)), exact);
      const decoded = fromBinary(SpecSchema, toBinary(SpecSchema, create(SpecSchema, init)));
      assert.equal(read(ociSpecFromProto(decoded)), exact, "after a trip over the wire too");
    });
  }

  it("writes RLIM_INFINITY (--ulimit memlock=-1) and seccomp masks into config.json verbatim", () => {
    const spec = convert({
      Process: { Args: ["sh"], Rlimits: [{ Type: "RLIMIT_MEMLOCK", Hard: u64Max, Soft: u64Max }] },
      Linux: {
        Seccomp: {
          DefaultAction: "SCMP_ACT_ERRNO",
          Syscalls: [
            {
              Names: ["clone"],
              Action: "SCMP_ACT_ALLOW",
              Args: [
                { Index: 0n, Value: 0x7e020000n, ValueTwo: 0xfedcba9876543210n, Op: "SCMP_CMP_MASKED_EQ" },
              ],
            },
          ],
        },
      },
    });
    const json = specToJson(spec);
    assert.match(
      json,
      /"rlimits":\[\{"type":"RLIMIT_MEMLOCK","hard":18446744073709551615,"soft":18446744073709551615\}\]/,
    );
    assert.match(
      json,
      /"args":\[\{"index":0,"value":2114060288,"valueTwo":18364758544493064720,"op":"SCMP_CMP_MASKED_EQ"\}\]/,
    );
  });

  it("converts an exec request's process, keeping 64-bit values exact", () => {
    const process = create(ProcessSchema, {
      Args: ["sh"],
      Cwd: "/root",
      Rlimits: [{ Type: "RLIMIT_CPU", Soft: 2n ** 63n }],
    });
    assert.deepEqual(processFromProto(process).rlimits, [{ type: "RLIMIT_CPU", hard: 0, soft: 2n ** 63n }]);
    process.Rlimits = [];
    assert.deepEqual(processFromProto(process), {
      user: { uid: 0, gid: 0 },
      args: ["sh"],
      cwd: "/root",
    });
  });

  it("converts an UpdateContainer request's resources into the JSON runc update reads, -1 and 2^63-1 exact", () => {
    const resources = create(LinuxResourcesSchema, {
      Memory: { Limit: 64n << 20n, Reservation: 32n << 20n, Swap: -1n, Kernel: 2n ** 63n - 1n },
      CPU: { Shares: 512n, Quota: 50_000n, Period: 100_000n, RealtimeRuntime: 0n, Cpus: "0-1", Mems: "0" },
      Pids: { Limit: 42n },
      BlockIO: { Weight: 300, ThrottleReadBpsDevice: [{ Major: 254n, Minor: 0n, Rate: 1048576n }] },
    });
    assert.equal(
      specToJson(resourcesFromProto(resources)),
      '{"memory":{"limit":67108864,"reservation":33554432,"swap":-1,"kernel":9223372036854775807},' +
        '"cpu":{"shares":512,"quota":50000,"period":100000,"cpus":"0-1","mems":"0"},"pids":{"limit":42},' +
        '"blockIO":{"weight":300,"throttleReadBpsDevice":[{"major":254,"minor":0,"rate":1048576}]}}',
    );
    assert.deepEqual(resourcesFromProto(create(LinuxResourcesSchema)), {});
  });

  it("turns a Kata pause-container spec into the config.json runc expects", () => {
    const podDir = "/run/kata-containers/sandbox/shared/podX";
    const json = JSON.stringify(
      convert({
        Version: "1.0.2-dev",
        Process: {
          User: { UID: 65535, GID: 65535 },
          Args: ["/pause"],
          Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
          Cwd: "/",
          Capabilities: {
            Bounding: ["CAP_CHOWN", "CAP_KILL"],
            Effective: ["CAP_CHOWN", "CAP_KILL"],
            Permitted: ["CAP_CHOWN", "CAP_KILL"],
          },
          NoNewPrivileges: true,
          OOMScoreAdj: -998n,
        },
        Root: { Path: "/run/kata-containers/ctr/rootfs", Readonly: true },
        Hostname: "podx",
        Mounts: [
          { destination: "/proc", source: "proc", type: "proc", options: ["nosuid", "noexec", "nodev"] },
          { destination: "/dev/shm", source: `${podDir}/shm`, type: "bind", options: ["rbind"] },
        ],
        Annotations: {
          "io.kubernetes.cri.container-type": "sandbox",
          "io.kubernetes.cri.sandbox-id": "podX",
        },
        Linux: {
          Resources: {
            Devices: [
              { Allow: false, Access: "rwm" },
              { Allow: true, Type: "c", Major: 1n, Minor: 3n, Access: "rwm" },
              { Allow: true, Type: "c", Major: 5n, Minor: -1n, Access: "rwm" },
              { Allow: true, Type: "c", Major: 136n, Minor: -1n, Access: "rwm" },
            ],
            CPU: { Shares: 2n },
          },
          CgroupsPath: "/kubepods/besteffort/podX/ctr",
          Namespaces: [
            { Type: "ipc", Path: "/proc/12/ns/ipc" },
            { Type: "uts", Path: "/proc/12/ns/uts" },
            { Type: "mount" },
          ],
          MaskedPaths: ["/proc/acpi", "/proc/kcore", "/sys/firmware"],
          ReadonlyPaths: ["/proc/bus", "/proc/sys", "/proc/sysrq-trigger"],
        },
      }),
    );
    assert.deepEqual(JSON.parse(json), {
      ociVersion: "1.0.2-dev",
      process: {
        user: { uid: 65535, gid: 65535 },
        args: ["/pause"],
        env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        cwd: "/",
        capabilities: {
          bounding: ["CAP_CHOWN", "CAP_KILL"],
          effective: ["CAP_CHOWN", "CAP_KILL"],
          permitted: ["CAP_CHOWN", "CAP_KILL"],
        },
        noNewPrivileges: true,
        oomScoreAdj: -998,
      },
      root: { path: "/run/kata-containers/ctr/rootfs", readonly: true },
      hostname: "podx",
      mounts: [
        { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
        { destination: "/dev/shm", type: "bind", source: `${podDir}/shm`, options: ["rbind"] },
      ],
      annotations: { "io.kubernetes.cri.container-type": "sandbox", "io.kubernetes.cri.sandbox-id": "podX" },
      linux: {
        namespaces: [
          { type: "ipc", path: "/proc/12/ns/ipc" },
          { type: "uts", path: "/proc/12/ns/uts" },
          { type: "mount" },
        ],
        cgroupsPath: "/kubepods/besteffort/podX/ctr",
        resources: {
          devices: [
            { allow: false, access: "rwm" },
            { allow: true, type: "c", major: 1, minor: 3, access: "rwm" },
            { allow: true, type: "c", major: 5, access: "rwm" },
            { allow: true, type: "c", major: 136, access: "rwm" },
          ],
          cpu: { shares: 2 },
        },
        maskedPaths: ["/proc/acpi", "/proc/kcore", "/sys/firmware"],
        readonlyPaths: ["/proc/bus", "/proc/sys", "/proc/sysrq-trigger"],
      },
    });
    const keys = new Set<string>();
    JSON.parse(json, (key: string, value: unknown) => {
      keys.add(key);
      return value;
    });
    assert.deepEqual(
      [...keys].filter((key) => /^[A-Z]/.test(key)),
      [],
      "no proto (CamelCase) names",
    );
    assert.doesNotMatch(json, /null|""|\[\]|\{\}/, "no nulls, empty strings, lists or objects");
  });
});
