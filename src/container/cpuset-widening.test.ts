import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { CgroupDirs } from "../cgroup/cgroup-dirs.js";
import { AgentError, Code } from "../errors.js";
import { type CpusetHolder, widenContainerCpuset, widenCpusets, widenedCpuset } from "./cpuset-widening.js";

describe("widenedCpuset()", () => {
  for (const [requested, online, widened] of [
    ["0-1", "0-3", "0-1"],
    ["0-7", "0-3", "0-3"],
    ["1,3", "0-1", "1"],
    ["4-5", "0-3", "0-3"],
    [undefined, "0-3", undefined],
    ["", "0-3", undefined],
  ] satisfies [string | undefined, string, string | undefined][]) {
    it(`is ${widened} for ${requested} asked for with ${online} online`, () => {
      assert.equal(widenedCpuset(requested, online), widened);
    });
  }
});

/**
 * A cgroup file system of plain files under a temp dir, and a proc with the mountinfo and the agent's
 * /proc/<pid>/cgroup that say where it is mounted and where the agent is in it.
 */
class FakeCgroups {
  readonly root = mkdtempSync(join(tmpdir(), "berth-fake-cgroups-"));
  readonly proc = join(this.root, "proc");
  readonly mount = join(this.root, "cg");

  constructor(readonly version: 1 | 2) {
    mkdirSync(join(this.proc, "self"), { recursive: true });
    mkdirSync(join(this.proc, `${process.pid}`));
    const fs = version === 2 ? "cgroup2 cgroup2 rw" : "cgroup cgroup rw,cpuset";
    writeFileSync(join(this.proc, "self/mountinfo"), `30 23 0:26 / ${this.mount} rw - ${fs}\n`);
    this.cgroup("", "0-3");
  }

  /** A cgroup at `path` below the mount holding `cpus`. */
  cgroup(path: string, cpus: string): string {
    const dir = join(this.mount, path);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "cpuset.cpus"), cpus ? `${cpus}\n` : "\n");
    if (this.version === 2) writeFileSync(join(dir, "cgroup.controllers"), "cpuset cpu io memory pids\n");
    return dir;
  }

  agentIn(path: string): void {
    const line = this.version === 2 ? `0::/${path}` : `3:cpuset:/${path}`;
    writeFileSync(join(this.proc, `${process.pid}/cgroup`), `${line}\n`);
  }

  cpus(path: string): string {
    return readFileSync(join(this.mount, path, "cpuset.cpus"), "utf8").trim();
  }

  /** A container in cgroup `path`, holding `cpus`, that asked for `requested`. */
  container(path: string, cpus: string, requested?: string): CpusetHolder {
    const dir = this.cgroup(path, cpus);
    const cgroup: CgroupDirs =
      this.version === 2 ? { v1: new Map(), v2: dir } : { v1: new Map([["cpuset", dir]]), v2: undefined };
    return { cgroup, widenCpuset: (online) => widenContainerCpuset(cgroup, requested, online) };
  }

  close(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

describe("widenCpusets()", () => {
  let fake: FakeCgroups;
  afterEach(() => fake.close());

  describe("on cgroup v2", () => {
    beforeEach(() => {
      fake = new FakeCgroups(2);
      fake.agentIn("");
    });

    it("widens the parents and the containers holding cpusets of their own; an empty one follows its parent already", async () => {
      fake.cgroup("kata", "0");
      fake.cgroup("kata/pod", "");
      const containers = [
        fake.container("kata/pod/asked", "0", "0-3"),
        fake.container("kata/pod/asked-none-online", "", "2-3"),
        fake.container("kata/pod/inherits", ""),
        fake.container("kata/pod/pinned", "1", "1"),
      ];
      await widenCpusets(containers, "0-3\n", fake.proc);
      assert.equal(fake.cpus("kata"), "0-3");
      assert.equal(fake.cpus("kata/pod"), "");
      assert.equal(fake.cpus("kata/pod/asked"), "0-3");
      assert.equal(fake.cpus("kata/pod/asked-none-online"), "2-3");
      assert.equal(fake.cpus("kata/pod/inherits"), "");
      assert.equal(fake.cpus("kata/pod/pinned"), "1");
    });

    it("never touches the agent's own cgroup or those above it", async () => {
      fake.cgroup("system", "0");
      fake.cgroup("system/agent", "0");
      fake.agentIn("system/agent");
      const containers = [fake.container("system/c1", "0", "0-3")];
      await widenCpusets(containers, "0-3", fake.proc);
      assert.equal(fake.cpus("system"), "0");
      assert.equal(fake.cpus("system/agent"), "0");
      assert.equal(fake.cpus("system/c1"), "0-3");
    });

    it("tries every cgroup and names each that failed", async () => {
      fake.cgroup("kata", "0");
      mkdirSync(join(fake.mount, "kata/broken/cpuset.cpus"), { recursive: true });
      const containers = [
        fake.container("kata/broken/c1", "0", "0-3"),
        fake.container("kata/c2", "0", "0-3"),
      ];
      await assert.rejects(
        widenCpusets(containers, "0-3", fake.proc),
        (e) =>
          e instanceof AgentError &&
          e.code === Code.INTERNAL &&
          /^cannot widen the cpusets to the online CPUs 0-3: cannot read \S+\/kata\/broken\/cpuset.cpus/.test(
            e.message,
          ),
      );
      assert.equal(fake.cpus("kata"), "0-3");
      assert.equal(fake.cpus("kata/broken/c1"), "0-3");
      assert.equal(fake.cpus("kata/c2"), "0-3");
    });

    it("reads nothing when the sandbox has no containers", async () => {
      await widenCpusets([], "0-3", "/nonexistent-proc");
    });
  });

  describe("on cgroup v1", () => {
    beforeEach(() => {
      fake = new FakeCgroups(1);
      fake.agentIn("");
    });

    it("widens a container that asked for no cpuset, which runc gave its parent's narrower one (Kata leaves it narrow)", async () => {
      fake.cgroup("kata", "0");
      fake.cgroup("kata/pod", "0");
      const containers = [fake.container("kata/pod/c1", "0"), fake.container("kata/pod/c2", "0", "0-1")];
      await widenCpusets(containers, "0-3", fake.proc);
      assert.equal(fake.cpus("kata"), "0-3");
      assert.equal(fake.cpus("kata/pod"), "0-3");
      assert.equal(fake.cpus("kata/pod/c1"), "0-3");
      assert.equal(fake.cpus("kata/pod/c2"), "0-1");
    });
  });
});
