import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseMountinfo } from "../sys/mountinfo.js";
import { cgroupDirsOf } from "./cgroup-dirs.js";

/** Recorded on this machine: a runc container's /proc/<pid>/cgroup and the agent's cgroup mounts. */
const HYBRID_CGROUP = `9:name=systemd:/c1
8:pids:/c1
7:blkio:/c1
6:freezer:/c1
5:devices:/c1
4:memory:/process_api/ac33a107a70472db91f68509b0861680/c1
3:cpuset:/c1
2:cpuacct:/c1
1:cpu:/c1
0::/c1
`;
const HYBRID_MOUNTS = parseMountinfo(`69 68 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
70 69 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
71 69 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
72 69 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
73 69 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
74 69 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
75 69 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
76 69 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
77 69 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
78 69 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
79 69 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`);

describe("cgroupDirsOf()", () => {
  it("finds each v1 controller's directory under its hierarchy's mount (hybrid layout: v1 wins)", () => {
    assert.deepEqual(cgroupDirsOf(HYBRID_CGROUP, HYBRID_MOUNTS), {
      version: 1,
      dirs: new Map([
        ["pids", "/sys/fs/cgroup/pids/c1"],
        ["blkio", "/sys/fs/cgroup/blkio/c1"],
        ["memory", "/sys/fs/cgroup/memory/process_api/ac33a107a70472db91f68509b0861680/c1"],
        ["cpuacct", "/sys/fs/cgroup/cpuacct/c1"],
        ["cpu", "/sys/fs/cgroup/cpu/c1"],
      ]),
    });
  });

  it("gives controllers mounted together one directory, and honours a mount of a subtree", () => {
    const mounts = parseMountinfo(`30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
31 25 0:27 /kubepods /cg/memory rw - cgroup cgroup rw,memory
`);
    const procCgroup =
      "3:cpu,cpuacct:/kubepods/pod1/c1\n2:memory:/kubepods/pod1/c1\n1:pids:/kubepods/pod1/c1\n";
    assert.deepEqual(cgroupDirsOf(procCgroup, mounts), {
      version: 1,
      dirs: new Map([
        ["cpu", "/sys/fs/cgroup/cpu,cpuacct/kubepods/pod1/c1"],
        ["cpuacct", "/sys/fs/cgroup/cpu,cpuacct/kubepods/pod1/c1"],
        ["memory", "/cg/memory/pod1/c1"],
      ]),
    });
  });

  it("uses the v2 directory when no v1 controller is there (unified layout)", () => {
    const mounts = parseMountinfo("30 25 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n");
    assert.deepEqual(cgroupDirsOf("0::/kata/c1\n", mounts), { version: 2, dir: "/sys/fs/cgroup/kata/c1" });
  });

  it("finds nothing when no cgroup hierarchy of the process is mounted, or a path lies outside the mount", () => {
    assert.equal(cgroupDirsOf(HYBRID_CGROUP, []), undefined);
    const subtree = parseMountinfo("31 25 0:27 /kubepods /cg/memory rw - cgroup cgroup rw,memory\n");
    assert.equal(cgroupDirsOf("2:memory:/kubepodsX/c1\n", subtree), undefined);
  });
});
