import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { specToJson } from "../oci/spec-json.js";
import { SpecSchema } from "../protocol/gen/oci_pb.js";
import { ociSpecFromProto } from "../rpc/convert/spec-from-proto.js";
import { CtlError } from "./ctl-error.js";
import { parseExactJson } from "./exact-json.js";
import { JsonFields } from "./json-fields.js";
import { specFromOci } from "./spec-from-oci.js";

const device = { major: 8, minor: 0 };

/** A config.json with every member the protocol carries set to a distinctive value. */
const FULL = {
  ociVersion: "1.1.0",
  process: {
    terminal: true,
    consoleSize: { height: 24, width: 80 },
    user: { uid: 1001, gid: 1002, additionalGids: [3, 4], username: "app" },
    args: ["/bin/app", "--serve"],
    env: ["PATH=/usr/bin"],
    cwd: "/srv",
    capabilities: {
      bounding: ["CAP_CHOWN"],
      effective: ["CAP_KILL"],
      inheritable: ["CAP_NET_RAW"],
      permitted: ["CAP_SETUID"],
      ambient: ["CAP_SETGID"],
    },
    rlimits: [{ type: "RLIMIT_NOFILE", hard: 18446744073709551615n, soft: 1024 }],
    noNewPrivileges: true,
    apparmorProfile: "berth",
    oomScoreAdj: -997,
    selinuxLabel: "system_u:system_r:container_t:s0",
  },
  root: { path: "rootfs", readonly: true },
  hostname: "pod",
  mounts: [{ destination: "/data", source: "/run/data", type: "bind", options: ["rbind", "ro"] }],
  hooks: {
    prestart: [{ path: "/h/prestart", args: ["prestart"], env: ["A=1"], timeout: 5 }],
    createRuntime: [{ path: "/h/create-runtime" }],
    createContainer: [{ path: "/h/create-container" }],
    startContainer: [{ path: "/h/start-container" }],
    poststart: [{ path: "/h/poststart" }],
    poststop: [{ path: "/h/poststop" }],
  },
  annotations: { "io.katacontainers.pkg": "x" },
  linux: {
    namespaces: [{ type: "mount" }, { type: "network", path: "/var/run/netns/x" }],
    uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
    gidMappings: [{ containerID: 1, hostID: 200000, size: 1000 }],
    devices: [{ path: "/dev/sda", type: "b", ...device, fileMode: 0o660, uid: 1, gid: 2 }],
    cgroupsPath: "/berth/c1",
    resources: {
      devices: [
        { allow: false, access: "rwm" },
        { allow: true, type: "c", major: 1, minor: 3, access: "rw" },
      ],
      memory: {
        limit: 536870912,
        reservation: 1,
        swap: -1,
        kernel: 2,
        kernelTCP: 3,
        swappiness: 60,
        disableOOMKiller: true,
      },
      cpu: {
        shares: 1024,
        quota: -1,
        period: 100000,
        realtimeRuntime: 5,
        realtimePeriod: 6,
        cpus: "0-1",
        mems: "0",
      },
      pids: { limit: 100 },
      blockIO: {
        weight: 500,
        leafWeight: 300,
        weightDevice: [{ ...device, weight: 10, leafWeight: 20 }],
        throttleReadBpsDevice: [{ ...device, rate: 1 }],
        throttleWriteBpsDevice: [{ ...device, rate: 2 }],
        throttleReadIOPSDevice: [{ ...device, rate: 3 }],
        throttleWriteIOPSDevice: [{ ...device, rate: 4 }],
      },
      hugepageLimits: [{ pageSize: "2MB", limit: 4194304 }],
      network: { classID: 7, priorities: [{ name: "eth0", priority: 1 }] },
    },
    intelRdt: { l3CacheSchema: "L3:0=ff" },
    sysctl: { "kernel.shmmni": "1000" },
    seccomp: {
      defaultAction: "SCMP_ACT_ERRNO",
      architectures: ["SCMP_ARCH_X86_64"],
      flags: ["SECCOMP_FILTER_FLAG_LOG"],
      syscalls: [
        {
          names: ["personality"],
          action: "SCMP_ACT_ALLOW",
          errnoRet: 0,
          args: [{ index: 0, value: 18446744073709551615n, valueTwo: 1, op: "SCMP_CMP_MASKED_EQ" }],
        },
      ],
    },
    rootfsPropagation: "rslave",
    maskedPaths: ["/proc/kcore"],
    readonlyPaths: ["/proc/sys"],
    mountLabel: "system_u:object_r:container_file_t:s0",
  },
};

function convert(text: string) {
  const fields = JsonFields.document(parseExactJson(text), "config.json");
  return { spec: create(SpecSchema, specFromOci(fields)), unread: fields.unreadMembers() };
}

describe("specFromOci()", () => {
  it("is the inverse of the agent's ociSpecFromProto for every member the protocol carries", () => {
    const { spec, unread } = convert(specToJson(FULL));
    assert.deepEqual(unread, []);
    assert.deepEqual(ociSpecFromProto(spec), FULL);
  });

  it("keeps 64-bit values exact and reads Kata's -1 in a uint64 as all ones", () => {
    const { spec } = convert(
      '{"process": {"rlimits": [{"type": "RLIMIT_CPU", "hard": -1, "soft": 18446744073709551615}]}}',
    );
    assert.equal(spec.Process?.Rlimits[0]?.Hard, 2n ** 64n - 1n);
    assert.equal(spec.Process?.Rlimits[0]?.Soft, 2n ** 64n - 1n);
  });

  it("makes an absent device-cgroup major or minor Kata's wildcard, -1", () => {
    const { spec } = convert(
      '{"linux": {"resources": {"devices": [{"allow": true, "type": "c", "major": 5}]}}}',
    );
    const rule = spec.Linux?.Resources?.Devices[0];
    assert.equal(rule?.Major, 5n);
    assert.equal(rule?.Minor, -1n);
  });

  it("reads null as absent and lists the members the protocol cannot carry", () => {
    const { spec, unread } = convert(
      JSON.stringify({
        ociVersion: "1.1.0",
        domainname: "example.org",
        process: {
          args: ["sh"],
          cwd: "/",
          user: { uid: 0, gid: 0, umask: 18 },
          scheduler: { policy: "SCHED_OTHER" },
        },
        hostname: null,
        linux: { personality: { domain: "LINUX" }, resources: { unified: { "memory.high": "1G" } } },
        procss: {},
      }),
    );
    assert.equal(spec.Hostname, "");
    assert.deepEqual(unread, [
      "domainname",
      "linux.personality",
      "linux.resources.unified",
      "process.scheduler",
      "process.user.umask",
      "procss",
    ]);
  });

  for (const [json, message] of [
    ['{"process": {"args": ["sh", 5]}}', /^config\.json: process\.args\[1\] must be a string, not 5$/],
    [
      '{"process": {"user": {"uid": -1}}}',
      /process\.user\.uid must be an integer in 0\.\.4294967295, not -1/,
    ],
    ['{"mounts": {"destination": "/x"}}', /mounts must be an array, not an object/],
    ['{"linux": {"sysctl": {"a": 1}}}', /linux\.sysctl\.a must be a string, not 1/],
    [
      '{"linux": {"resources": {"memory": {"limit": 1.5}}}}',
      /linux\.resources\.memory\.limit must be a 64-bit integer, not 1\.5/,
    ],
    ['{"process": {"terminal": "yes"}}', /process\.terminal must be true or false, not "yes"/],
    ["[]", /^config\.json: must be a JSON object, not an array$/],
  ] as const) {
    it(`refuses ${json}, naming the member`, () => {
      assert.throws(
        () => convert(json),
        (e: unknown) => e instanceof CtlError && message.test(e.message),
      );
    });
  }
});
