import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseMountinfo } from "../sys/mountinfo.js";
import { runcCgroupDirs, runcCleanPath } from "./runc-cgroups.js";

/** The hybrid layout of a Debian VM: v1 controllers (cpu and cpuacct apart) and v2 at unified/. */
const HYBRID_MOUNTS = parseMountinfo(
  [
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu",
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct",
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
    "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices",
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd",
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
    "42 31 0:39 / /sys/fs/cgroup/named rw,relatime - cgroup cgroup rw,name=other",
    "43 31 0:32 / /mnt/memory-again rw,relatime - cgroup cgroup rw,memory",
  ].join("\n"),
);
const HYBRID_OWN = [
  "9:name=systemd:/",
  "5:devices:/",
  "4:memory:/process_api/abc",
  "2:cpuacct:/",
  "1:cpu:/",
  "0::/",
].join("\n");

const UNIFIED_MOUNTS = parseMountinfo(
  "24 23 0:22 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot",
);

describe("runcCleanPath()", () => {
  for (const [path, clean] of [
    ["", ""],
    ["/a//b/../c/", "/a/c"],
    ["a/./b", "a/b"],
    ["../../x", "x"],
    ["a/..", "."],
    [".", "."],
  ]) {
    it(`cleans ${JSON.stringify(path)} to ${JSON.stringify(clean)} as runc does`, () => {
      assert.equal(runcCleanPath(path as string), clean);
    });
  }
});

describe("runcCgroupDirs()", () => {
  it("puts a container with no cgroups path below runc's own cgroup in each v1 hierarchy and in hybrid v2", () => {
    assert.deepEqual(runcCgroupDirs("c1", "", HYBRID_OWN, HYBRID_MOUNTS), [
      "/sys/fs/cgroup/cpu/c1",
      "/sys/fs/cgroup/cpuacct/c1",
      "/sys/fs/cgroup/memory/process_api/abc/c1",
      "/sys/fs/cgroup/devices/c1",
      "/sys/fs/cgroup/systemd/c1",
      "/sys/fs/cgroup/unified/c1",
    ]);
  });

  it("puts an absolute cgroups path below each mount point", () => {
    assert.deepEqual(runcCgroupDirs("c1", "/kata/../kata/c1", HYBRID_OWN, HYBRID_MOUNTS), [
      "/sys/fs/cgroup/cpu/kata/c1",
      "/sys/fs/cgroup/cpuacct/kata/c1",
      "/sys/fs/cgroup/memory/kata/c1",
      "/sys/fs/cgroup/devices/kata/c1",
      "/sys/fs/cgroup/systemd/kata/c1",
      "/sys/fs/cgroup/unified/kata/c1",
    ]);
  });

  it("puts a relative path below the parent of runc's own cgroup when v2 runs alone", () => {
    const own = "0::/system.slice/berth.service\n";
    assert.deepEqual(runcCgroupDirs("c1", "", own, UNIFIED_MOUNTS), ["/sys/fs/cgroup/system.slice/c1"]);
    assert.deepEqual(runcCgroupDirs("c1", "pods/c1", own, UNIFIED_MOUNTS), [
      "/sys/fs/cgroup/system.slice/pods/c1",
    ]);
    assert.deepEqual(runcCgroupDirs("c1", "", "0::/\n", UNIFIED_MOUNTS), ["/sys/fs/cgroup/c1"]);
    assert.deepEqual(runcCgroupDirs("c1", "/kata/c1", own, UNIFIED_MOUNTS), ["/sys/fs/cgroup/kata/c1"]);
  });

  it("maps a cgroup through the root of a mount that shows a subtree", () => {
    const mounts = parseMountinfo("24 23 0:22 /pod /sys/fs/cgroup rw - cgroup2 cgroup2 rw");
    assert.deepEqual(runcCgroupDirs("c1", "", "0::/pod/agent\n", mounts), ["/sys/fs/cgroup/c1"]);
    assert.deepEqual(runcCgroupDirs("c1", "", "0::/elsewhere/agent\n", mounts), []);
  });

  it("never names the agent's own cgroup or one above it", () => {
    assert.deepEqual(runcCgroupDirs("c1", ".", HYBRID_OWN, HYBRID_MOUNTS), []);
    assert.deepEqual(runcCgroupDirs("c1", "/", HYBRID_OWN, HYBRID_MOUNTS), []);
    const own = "0::/system.slice/berth.service\n";
    assert.deepEqual(runcCgroupDirs("c1", "berth.service", own, UNIFIED_MOUNTS), []);
  });
});
