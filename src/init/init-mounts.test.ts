import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cgroupMounts, enabledControllers, INIT_MOUNTS } from "./init-mounts.js";

const PROC_CGROUPS = `#subsys_name\thierarchy\tnum_cgroups\tenabled
cpuset\t2\t1\t1
cpu\t3\t1\t1
cpuacct\t3\t1\t1
memory\t4\t1\t1
rdma\t0\t1\t0
`;

describe("PID 1 cgroup mounts", () => {
  it("lists enabled controllers only, with their hierarchies", () => {
    assert.deepEqual(
      enabledControllers(PROC_CGROUPS).map((c) => `${c.name}:${c.hierarchy}`),
      ["cpuset:2", "cpu:3", "cpuacct:3", "memory:4"],
    );
  });

  it("keeps the kernel's grouping of bound controllers and pairs unbound ones as systemd does", () => {
    const bound = [
      { name: "cpu", hierarchy: 1 },
      { name: "cpuacct", hierarchy: 2 },
      { name: "net_cls", hierarchy: 0 },
      { name: "net_prio", hierarchy: 0 },
    ];
    assert.deepEqual(
      cgroupMounts(bound, false).map((m) => m.target),
      ["/sys/fs/cgroup", "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpuacct", "/sys/fs/cgroup/net_cls,net_prio"],
    );
  });

  it("mounts a tmpfs and one v1 hierarchy per group, cpu and cpuacct together as the kernel bound them", () => {
    const mounts = cgroupMounts(enabledControllers(PROC_CGROUPS), false);
    assert.deepEqual(
      mounts.map((m) => `${m.fsType} ${m.target}`),
      [
        "tmpfs /sys/fs/cgroup",
        "cgroup /sys/fs/cgroup/cpuset",
        "cgroup /sys/fs/cgroup/cpu,cpuacct",
        "cgroup /sys/fs/cgroup/memory",
      ],
    );
    assert.deepEqual(mounts[2]?.options.slice(-2), ["cpu", "cpuacct"]);
  });

  it("mounts cgroup2 alone when asked for", () => {
    assert.deepEqual(
      cgroupMounts([], true).map((m) => m.fsType),
      ["cgroup2"],
    );
  });
});

describe("PID 1 guest mounts", () => {
  it("mounts /proc first, before anything reads the mount table (a fresh guest has none)", () => {
    assert.equal(INIT_MOUNTS[0]?.target, "/proc");
    const firstOther = INIT_MOUNTS.findIndex((m) => !m.always);
    assert.ok(
      INIT_MOUNTS.slice(firstOther).every((m) => !m.always),
      "every always-mount comes first",
    );
  });
});
