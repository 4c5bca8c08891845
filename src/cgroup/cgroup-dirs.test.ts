import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseMountinfo } from "../sys/mountinfo.js";
import {
  type CgroupDirs,
  cgroupAncestors,
  cgroupDirsOf,
  controllerDir,
  parseProcCgroup,
} from "./cgroup-dirs.js";

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

/** A cgroup v2 only guest (Kata with systemd.unified_cgroup_hierarchy=1). */
const V2_MOUNTS = parseMountinfo(`22 27 0:21 / /proc rw,relatime - proc proc rw
30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate
`);

describe("parseProcCgroup()", () => {
  it("reads hierarchy, controllers and path, v2's line with none", () => {
    assert.deepEqual(parseProcCgroup("2:cpu,cpuacct:/c1\n1:name=systemd:/c1\n0::/c1\n"), [
      { hierarchy: 2, controllers: ["cpu", "cpuacct"], path: "/c1" },
      { hierarchy: 1, controllers: ["name=systemd"], path: "/c1" },
      { hierarchy: 0, controllers: [], path: "/c1" },
    ]);
  });

  it("skips malformed lines", () => {
    assert.deepEqual(parseProcCgroup("garbage\n1:cpu\nx:cpu:/a\n3:pids:relative\n"), []);
  });
});

describe("cgroupDirsOf()", () => {
  it("finds each v1 controller's directory under its hierarchy's mount, nested paths too, and the v2 one", () => {
    assert.deepEqual(cgroupDirsOf(HYBRID_CGROUP, HYBRID_MOUNTS), {
      v1: new Map([
        ["name=systemd", "/sys/fs/cgroup/systemd/c1"],
        ["pids", "/sys/fs/cgroup/pids/c1"],
        ["blkio", "/sys/fs/cgroup/blkio/c1"],
        ["freezer", "/sys/fs/cgroup/freezer/c1"],
        ["devices", "/sys/fs/cgroup/devices/c1"],
        ["memory", "/sys/fs/cgroup/memory/process_api/ac33a107a70472db91f68509b0861680/c1"],
        ["cpuset", "/sys/fs/cgroup/cpuset/c1"],
        ["cpuacct", "/sys/fs/cgroup/cpuacct/c1"],
        ["cpu", "/sys/fs/cgroup/cpu/c1"],
      ]),
      v2: "/sys/fs/cgroup/unified/c1",
    });
  });

  it("gives controllers mounted together one directory, and honours a mount of a subtree", () => {
    const mounts = parseMountinfo(`30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
31 25 0:27 /kubepods /cg/memory rw - cgroup cgroup rw,memory
`);
    const procCgroup =
      "3:cpu,cpuacct:/kubepods/pod1/c1\n2:memory:/kubepods/pod1/c1\n1:pids:/kubepods/pod1/c1\n";
    assert.deepEqual(cgroupDirsOf(procCgroup, mounts), {
      v1: new Map([
        ["cpu", "/sys/fs/cgroup/cpu,cpuacct/kubepods/pod1/c1"],
        ["cpuacct", "/sys/fs/cgroup/cpu,cpuacct/kubepods/pod1/c1"],
        ["memory", "/cg/memory/pod1/c1"],
      ]),
      v2: undefined,
    });
  });

  it("takes the first mount of a hierarchy that shows the path, and only a mount whose root holds it", () => {
    const mounts = parseMountinfo(
      "50 31 0:32 /other /mnt/other rw - cgroup cgroup rw,memory\n51 31 0:32 /tests /mnt/mem rw - cgroup cgroup rw,memory\n",
    );
    assert.deepEqual(cgroupDirsOf("4:memory:/tests/c1\n", mounts)?.v1.get("memory"), "/mnt/mem/c1");
    assert.deepEqual(cgroupDirsOf("4:memory:/tests\n", mounts)?.v1.get("memory"), "/mnt/mem");
    assert.equal(cgroupDirsOf("4:memory:/elsewhere/c1\n", mounts), undefined);
    assert.equal(cgroupDirsOf("4:memory:/testsX/c1\n", mounts), undefined);
  });

  it("finds a pure v2 guest's directory, below a mount of part of the hierarchy too", () => {
    assert.deepEqual(cgroupDirsOf("0::/kata/c2\n", V2_MOUNTS), {
      v1: new Map(),
      v2: "/sys/fs/cgroup/kata/c2",
    });
    const subtree = parseMountinfo("40 1 0:40 /kata /sys/fs/cgroup rw - cgroup2 cgroup2 rw");
    assert.equal(cgroupDirsOf("0::/kata/pod/c2\n", subtree)?.v2, "/sys/fs/cgroup/pod/c2");
    assert.equal(cgroupDirsOf("0::/other/c2\n", subtree), undefined);
    assert.equal(cgroupDirsOf("0::/kata2/c2\n", subtree), undefined);
  });

  it("finds nothing outside the reader's cgroup namespace (a path with ..)", () => {
    assert.equal(cgroupDirsOf("4:memory:/../../c1\n0::/../c1\n", HYBRID_MOUNTS), undefined);
  });

  it("finds nothing when no cgroup hierarchy of the process is mounted, or for empty text", () => {
    assert.equal(cgroupDirsOf(HYBRID_CGROUP, []), undefined);
    assert.equal(
      cgroupDirsOf(HYBRID_CGROUP, parseMountinfo("22 27 0:21 / /proc rw - proc proc rw\n")),
      undefined,
    );
    assert.equal(cgroupDirsOf("", HYBRID_MOUNTS), undefined);
  });
});

describe("controllerDir()", () => {
  const hybrid = cgroupDirsOf(HYBRID_CGROUP, HYBRID_MOUNTS) as CgroupDirs;

  it("finds a v1 controller's directory on a hybrid host, not the empty v2 tree", () => {
    assert.deepEqual(controllerDir(hybrid, "memory"), {
      version: 1,
      dir: "/sys/fs/cgroup/memory/process_api/ac33a107a70472db91f68509b0861680/c1",
    });
    assert.deepEqual(controllerDir(hybrid, "blkio"), { version: 1, dir: "/sys/fs/cgroup/blkio/c1" });
  });

  it("finds a controller in a combined v1 hierarchy", () => {
    const mounts = parseMountinfo(
      "60 31 0:40 / /sys/fs/cgroup/cpu,memory rw - cgroup cgroup rw,cpu,memory\n",
    );
    const dirs = cgroupDirsOf("2:cpu,memory:/c3\n", mounts) as CgroupDirs;
    assert.deepEqual(controllerDir(dirs, "memory"), { version: 1, dir: "/sys/fs/cgroup/cpu,memory/c3" });
  });

  it("falls back to the v2 directory for a controller no v1 hierarchy has", () => {
    assert.deepEqual(controllerDir(hybrid, "hugetlb"), { version: 2, dir: "/sys/fs/cgroup/unified/c1" });
    const v2 = cgroupDirsOf("0::/kata/c2\n", V2_MOUNTS) as CgroupDirs;
    assert.deepEqual(controllerDir(v2, "memory"), { version: 2, dir: "/sys/fs/cgroup/kata/c2" });
  });

  it("is undefined when neither a v1 hierarchy of the controller nor v2 is mounted", () => {
    const mounts = parseMountinfo("35 30 0:30 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n");
    const dirs = cgroupDirsOf(HYBRID_CGROUP, mounts) as CgroupDirs;
    assert.equal(controllerDir(dirs, "pids"), undefined);
  });
});

describe("cgroupAncestors()", () => {
  it("lists the cgroups between a v1 hierarchy's root and the directory, parents first", () => {
    assert.deepEqual(cgroupAncestors("/sys/fs/cgroup/cpuset/kubepods/pod1/c1", HYBRID_MOUNTS), [
      "/sys/fs/cgroup/cpuset/kubepods",
      "/sys/fs/cgroup/cpuset/kubepods/pod1",
    ]);
  });

  it("takes the deepest cgroup mount holding the directory, not a prefix of its name", () => {
    const mounts = parseMountinfo(`30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw
31 30 0:27 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu
`);
    assert.deepEqual(cgroupAncestors("/sys/fs/cgroup/cpu/a/b", mounts), ["/sys/fs/cgroup/cpu/a"]);
    assert.deepEqual(cgroupAncestors("/sys/fs/cgroup/cpuset/a", mounts), ["/sys/fs/cgroup/cpuset"]);
  });

  it("is empty for a cgroup just below the root, the root itself, and a directory no cgroup mount holds", () => {
    assert.deepEqual(cgroupAncestors("/sys/fs/cgroup/c1", V2_MOUNTS), []);
    assert.deepEqual(cgroupAncestors("/sys/fs/cgroup", V2_MOUNTS), []);
    assert.deepEqual(cgroupAncestors("/proc/x/y", V2_MOUNTS), []);
    assert.deepEqual(cgroupAncestors("/sys/fs/cgroup/x/y", HYBRID_MOUNTS), []);
  });
});
