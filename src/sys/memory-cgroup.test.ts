import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { memoryCgroupFrom, oomKillCount } from "./memory-cgroup.js";
import { parseMountinfo } from "./mountinfo.js";

/** A cgroup v1 "hybrid" host (this project's test machine): v1 controllers, an empty v2 tree at unified. */
const HYBRID_MOUNTS = parseMountinfo(`31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`);

const HYBRID_PROC = `9:name=systemd:/
4:memory:/tests/c1
3:cpuset:/tests/c1
1:cpu:/tests/c1
0::/
`;

/** A cgroup v2 only guest (Kata with systemd.unified_cgroup_hierarchy=1). */
const V2_MOUNTS = parseMountinfo(`22 27 0:21 / /proc rw,relatime - proc proc rw
30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate
`);

describe("memoryCgroupFrom()", () => {
  it("finds the v1 memory hierarchy on a hybrid host, not the empty v2 tree", () => {
    assert.deepEqual(memoryCgroupFrom(HYBRID_PROC, HYBRID_MOUNTS), {
      version: 1,
      dir: "/sys/fs/cgroup/memory/tests/c1",
    });
  });

  it("finds the v2 tree when there is no v1 memory controller", () => {
    assert.deepEqual(memoryCgroupFrom("0::/kata/c2\n", V2_MOUNTS), {
      version: 2,
      dir: "/sys/fs/cgroup/kata/c2",
    });
  });

  it("follows a mount of a cgroup subtree (mountinfo root), and skips one that does not show the path", () => {
    const mounts = parseMountinfo(
      "50 31 0:32 /tests /mnt/mem rw - cgroup cgroup rw,memory\n51 31 0:32 /other /mnt/other rw - cgroup cgroup rw,memory\n",
    );
    assert.deepEqual(memoryCgroupFrom("4:memory:/tests/c1\n", mounts), { version: 1, dir: "/mnt/mem/c1" });
    assert.equal(memoryCgroupFrom("4:memory:/elsewhere/c1\n", mounts), undefined);
  });

  it("finds a controller in a combined v1 hierarchy (memory with others)", () => {
    const mounts = parseMountinfo(
      "60 31 0:40 / /sys/fs/cgroup/cpu,memory rw - cgroup cgroup rw,cpu,memory\n",
    );
    assert.deepEqual(memoryCgroupFrom("2:cpu,memory:/c3\n", mounts), {
      version: 1,
      dir: "/sys/fs/cgroup/cpu,memory/c3",
    });
  });

  it("is undefined with no cgroup mount, or for empty text", () => {
    assert.equal(
      memoryCgroupFrom(HYBRID_PROC, parseMountinfo("22 27 0:21 / /proc rw - proc proc rw\n")),
      undefined,
    );
    assert.equal(memoryCgroupFrom("", HYBRID_MOUNTS), undefined);
  });
});

/** memory.events of one cgroup v2 container over time, as the kernel writes it. */
const EVENTS = {
  fresh: "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n",
  atLimit: "low 0\nhigh 0\nmax 37\noom 0\noom_kill 0\noom_group_kill 0\n",
  oomNoKill: "low 0\nhigh 0\nmax 52\noom 1\noom_kill 0\noom_group_kill 0\n",
  killed: "low 0\nhigh 0\nmax 61\noom 2\noom_kill 1\noom_group_kill 0\n",
  groupKilled: "low 0\nhigh 0\nmax 70\noom 3\noom_kill 3\noom_group_kill 1\n",
};

describe("oomKillCount()", () => {
  it("reads oom_kill, not oom or oom_group_kill", () => {
    assert.deepEqual(Object.values(EVENTS).map(oomKillCount), [0, 0, 0, 1, 3]);
  });

  it("is 0 for a file without the line, and ignores a malformed value", () => {
    assert.equal(oomKillCount(""), 0);
    assert.equal(oomKillCount("oom_kill_disable 0\nunder_oom 0\n"), 0);
    assert.equal(oomKillCount("oom_kill x\n"), 0);
  });
});
