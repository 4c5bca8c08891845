import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import { enabledControllerDir, findCgroupDirs, writeCgroupFiles } from "./cgroup-fs.js";

describe("findCgroupDirs()", () => {
  it("finds this process's cgroups on this machine", async () => {
    const dirs = await findCgroupDirs(process.pid);
    assert.match(dirs.v1.get("pids") ?? "", /^\/sys\/fs\/cgroup\//);
  });

  it("fails NOT_FOUND for a process that is not there", async () => {
    await assert.rejects(
      findCgroupDirs(2 ** 22 + 1),
      (e) =>
        e instanceof AgentError && e.code === Code.NOT_FOUND && /cgroups of process 4194305/.test(e.message),
    );
  });
});

describe("enabledControllerDir()", () => {
  const v2 = mkdtempSync(join(tmpdir(), "berth-cgroup-v2-"));
  writeFileSync(join(v2, "cgroup.controllers"), "cpuset cpu io memory pids\n");
  after(() => rmSync(v2, { recursive: true, force: true }));

  it("finds a mounted v1 controller, and nothing for one the machine does not run", async () => {
    const dirs = await findCgroupDirs(process.pid);
    assert.deepEqual(await enabledControllerDir(dirs, "pids"), { version: 1, dir: dirs.v1.get("pids") });
    assert.equal(await enabledControllerDir(dirs, "nonesuch"), undefined);
  });

  it("takes the v2 directory only when its cgroup.controllers lists the controller, by its v2 name", async () => {
    const dirs = { v1: new Map(), v2 };
    assert.deepEqual(await enabledControllerDir(dirs, "blkio", "io"), { version: 2, dir: v2 });
    assert.deepEqual(await enabledControllerDir(dirs, "memory"), { version: 2, dir: v2 });
    assert.equal(await enabledControllerDir(dirs, "hugetlb"), undefined);
    assert.equal(await enabledControllerDir({ v1: new Map(), v2: join(v2, "gone") }, "memory"), undefined);
  });
});

describe("writeCgroupFiles()", () => {
  const dir = mkdtempSync(join(tmpdir(), "berth-cgroup-write-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("writes each line to its file, the last one of a file last", async () => {
    await writeCgroupFiles(dir, [
      { file: "a", line: "8:0 1" },
      { file: "b", line: "8:0 2" },
      { file: "a", line: "8:0 3" },
    ]);
    assert.equal(readFileSync(join(dir, "a"), "utf8"), "8:0 3");
    assert.equal(readFileSync(join(dir, "b"), "utf8"), "8:0 2");
  });

  it("names the line and file it could not write", async () => {
    await assert.rejects(
      writeCgroupFiles(join(dir, "gone"), [{ file: "io.max", line: "8:0 rbps=1" }]),
      (e) =>
        e instanceof AgentError &&
        e.code === Code.NOT_FOUND &&
        /"8:0 rbps=1" to .*gone\/io\.max/.test(e.message),
    );
  });
});
