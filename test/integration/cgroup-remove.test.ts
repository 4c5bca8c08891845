import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, rmdirSync } from "node:fs";
import { after, describe, it } from "node:test";
import { removeEmptyCgroup } from "../../src/cgroup/cgroup-kill.js";

const TEST = { timeout: 30_000 };
const ROOT = `/sys/fs/cgroup/pids/berth-remove-${process.pid}`;

/** A sleeping process moved into cgroup `dir` before it execs; resolves once it is there. */
async function sleeperIn(dir: string) {
  const child = spawn("sh", ["-c", `echo $$ > ${dir}/cgroup.procs && echo in && exec sleep 1000`], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
  return { kill: () => child.kill("SIGKILL"), exited };
}

describe("removeEmptyCgroup() on a real cgroup v1 hierarchy", () => {
  let n = 0;
  const cgroup = () => {
    const dir = `${ROOT}/c${n++}`;
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  after(() => {
    for (let i = n - 1; i >= 0; i--) {
      if (existsSync(`${ROOT}/c${i}/sub`)) rmdirSync(`${ROOT}/c${i}/sub`);
      if (existsSync(`${ROOT}/c${i}`)) rmdirSync(`${ROOT}/c${i}`);
    }
    if (existsSync(ROOT)) rmdirSync(ROOT);
  });

  it("removes an empty cgroup, and takes one already gone as done", TEST, async () => {
    const dir = cgroup();
    assert.equal(await removeEmptyCgroup(dir), true);
    assert.equal(existsSync(dir), false);
    assert.equal(await removeEmptyCgroup(dir), true);
  });

  it("removes the cgroup of a process just seen to exit, every time", TEST, async () => {
    for (let i = 0; i < 20; i++) {
      const dir = cgroup();
      const p = await sleeperIn(dir);
      p.kill();
      await p.exited;
      assert.equal(await removeEmptyCgroup(dir), true);
      assert.equal(existsSync(dir), false);
    }
  });

  it("leaves a cgroup that still holds a process, at once and killing nothing", TEST, async () => {
    const dir = cgroup();
    const p = await sleeperIn(dir);
    try {
      const t0 = performance.now();
      assert.equal(await removeEmptyCgroup(dir), false);
      assert.ok(performance.now() - t0 < 500, "no wait for a process that is not exiting");
      assert.equal(existsSync(dir), true);
    } finally {
      p.kill();
      await p.exited;
    }
    assert.equal(await removeEmptyCgroup(dir), true);
  });

  it("leaves a cgroup that holds a cgroup, and the one below it", TEST, async () => {
    const dir = cgroup();
    mkdirSync(`${dir}/sub`);
    assert.equal(await removeEmptyCgroup(dir), false);
    assert.equal(existsSync(`${dir}/sub`), true);
  });
});
