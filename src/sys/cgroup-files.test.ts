import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import { cgroupDir, cgroupDirIn, parseProcCgroup } from "./cgroup-files.js";
import { parseMountinfo } from "./mountinfo.js";

/** A cgroup v1 "hybrid" guest like this test machine: v1 controllers, an empty v2 at unified/. */
const HYBRID_CGROUP = [
  "8:pids:/c1",
  "7:blkio:/c1",
  "4:memory:/process_api/abc/c1",
  "2:cpu,cpuacct:/c1",
  "1:name=systemd:/c1",
  "0::/c1",
  "",
].join("\n");
const HYBRID_MOUNTS = parseMountinfo(
  [
    "30 25 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755",
    "31 30 0:27 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
    "33 30 0:29 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio",
    "34 30 0:30 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
    "35 30 0:31 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct",
  ].join("\n"),
);

describe("parseProcCgroup()", () => {
  it("reads hierarchy, controllers and path, v2's line with none", () => {
    assert.deepEqual(parseProcCgroup(HYBRID_CGROUP).slice(3), [
      { hierarchy: 2, controllers: ["cpu", "cpuacct"], path: "/c1" },
      { hierarchy: 1, controllers: ["name=systemd"], path: "/c1" },
      { hierarchy: 0, controllers: [], path: "/c1" },
    ]);
  });

  it("skips malformed lines", () => {
    assert.deepEqual(parseProcCgroup("garbage\n1:cpu\nx:cpu:/a\n3:pids:relative\n"), []);
  });
});

describe("cgroupDirIn()", () => {
  const cgroups = parseProcCgroup(HYBRID_CGROUP);

  it("finds a v1 controller's directory under its mount, nested paths and shared mounts too", () => {
    assert.deepEqual(cgroupDirIn(cgroups, HYBRID_MOUNTS, "blkio"), {
      dir: "/sys/fs/cgroup/blkio/c1",
      version: 1,
    });
    assert.deepEqual(cgroupDirIn(cgroups, HYBRID_MOUNTS, "memory"), {
      dir: "/sys/fs/cgroup/memory/process_api/abc/c1",
      version: 1,
    });
    assert.deepEqual(cgroupDirIn(cgroups, HYBRID_MOUNTS, "cpuacct"), {
      dir: "/sys/fs/cgroup/cpu,cpuacct/c1",
      version: 1,
    });
  });

  it("falls back to the v2 hierarchy for a controller no v1 hierarchy has", () => {
    assert.deepEqual(cgroupDirIn(cgroups, HYBRID_MOUNTS, "io"), {
      dir: "/sys/fs/cgroup/unified/c1",
      version: 2,
    });
  });

  it("finds a pure v2 guest's directory, below a mount of part of the hierarchy", () => {
    const v2 = parseProcCgroup("0::/kata/pod/c2\n");
    const mounts = parseMountinfo("40 1 0:40 /kata /sys/fs/cgroup rw - cgroup2 cgroup2 rw");
    assert.deepEqual(cgroupDirIn(v2, mounts, "blkio"), { dir: "/sys/fs/cgroup/pod/c2", version: 2 });
    assert.equal(cgroupDirIn(parseProcCgroup("0::/other/c2\n"), mounts, "blkio"), undefined);
    assert.equal(cgroupDirIn(parseProcCgroup("0::/kata2/c2\n"), mounts, "blkio"), undefined);
  });

  it("is undefined when the controller's hierarchy is not mounted", () => {
    assert.equal(cgroupDirIn(cgroups, HYBRID_MOUNTS, "pids"), undefined);
    assert.equal(cgroupDirIn(cgroups, [], "io"), undefined);
  });
});

describe("cgroupDir()", () => {
  it("finds this process's cgroup of a controller the machine runs", async () => {
    const found = await cgroupDir(process.pid, "pids");
    assert.match(found.dir, /^\/sys\/fs\/cgroup\//);
  });

  it("fails FAILED_PRECONDITION for a controller the machine does not run", async () => {
    await assert.rejects(
      cgroupDir(process.pid, "nonesuch"),
      (e) => e instanceof AgentError && e.code === Code.FAILED_PRECONDITION && /nonesuch/.test(e.message),
    );
  });
});
