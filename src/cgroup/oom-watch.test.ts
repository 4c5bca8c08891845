import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createLogger } from "../log.js";
import { oomKillCount, watchOom } from "./oom-watch.js";

const events = (max: number, oom: number, kills: number) =>
  `low 0\nhigh 0\nmax ${max}\noom ${oom}\noom_kill ${kills}\noom_group_kill 0\n`;

/**
 * The cgroup v2 watch on a stand-in directory: this machine's v2 tree has no memory controller, so a plain
 * file takes memory.events' place; inotify reports its changes as it does the kernel's.
 */
describe("watchOom() on cgroup v2 (memory.events)", () => {
  const dir = mkdtempSync(join(tmpdir(), "berth-memory-events-"));
  const file = join(dir, "memory.events");
  const log = createLogger({ level: "silent" });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function until(check: () => boolean) {
    for (let i = 0; !check() && i < 1000; i++) await sleep(2);
  }

  it("reports each change that raises oom_kill, once, and nothing else", async () => {
    writeFileSync(file, events(3, 1, 1));
    let ooms = 0;
    const watch = await watchOom({ version: 2, dir }, () => ooms++, log);
    try {
      writeFileSync(file, events(9, 2, 1)); // hitting the limit, an OOM without a kill: no event
      writeFileSync(file, events(12, 3, 2));
      await until(() => ooms === 1);
      assert.equal(ooms, 1, "the kill counted before the watch started is not an event");
      writeFileSync(file, events(15, 3, 2));
      writeFileSync(file, events(20, 5, 5));
      await until(() => ooms === 2);
      await sleep(50);
      assert.equal(ooms, 2);
    } finally {
      watch.close();
    }
  });

  it("reports at close a kill inotify has not delivered yet; nothing after close", async () => {
    writeFileSync(file, events(0, 0, 0));
    let ooms = 0;
    const watch = await watchOom({ version: 2, dir }, () => ooms++, log);
    writeFileSync(file, events(1, 1, 1));
    watch.close();
    assert.equal(ooms, 1);
    watch.close();
    writeFileSync(file, events(2, 2, 2));
    await sleep(50);
    assert.equal(ooms, 1);
  });

  it("ends quietly when the cgroup goes away", async () => {
    writeFileSync(file, events(0, 0, 0));
    let ooms = 0;
    const watch = await watchOom({ version: 2, dir }, () => ooms++, log);
    rmSync(file);
    await sleep(50);
    watch.close();
    assert.equal(ooms, 0);
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
    assert.deepEqual(Object.values(EVENTS).map(oomKillCount), [0n, 0n, 0n, 1n, 3n]);
  });

  it("is 0 for a file without the line, and ignores a malformed value", () => {
    assert.equal(oomKillCount(""), 0n);
    assert.equal(oomKillCount("oom_kill_disable 0\nunder_oom 0\n"), 0n);
    assert.equal(oomKillCount("oom_kill x\n"), 0n);
  });
});
