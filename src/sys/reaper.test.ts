import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { runCommand } from "./exec.js";
import { Reaper, statusCode } from "./reaper.js";

/**
 * Starts a grandchild that runs `script` only once its parent shell is gone, so it surely becomes our
 * orphan (a child that ended first would be the shell's to reap); returns its pid.
 */
async function orphan(script: string): Promise<number> {
  const waitForParent = "while kill -0 $$ 2>/dev/null; do sleep 0.01; done";
  const { stdout } = await runCommand([
    "sh",
    "-c",
    `(${waitForParent}; ${script}) >/dev/null 2>&1 & echo $!`,
  ]);
  return Number(stdout.trim());
}

function zombieChildren(): number[] {
  const children = readdirSync("/proc/self/task").flatMap((tid) =>
    readFileSync(`/proc/self/task/${tid}/children`, "utf8").split(" ").filter(Boolean).map(Number),
  );
  return children.filter((pid) => {
    try {
      return /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
    } catch {
      return false;
    }
  });
}

describe("Reaper", () => {
  const reaped: number[] = [];
  const reaper = new Reaper({ onReap: (pid) => reaped.push(pid) });
  before(() => reaper.start());
  after(() => reaper.stop());

  it("reaps an orphan and reports its exit code", async () => {
    const pid = await orphan("sleep 0.1; exit 7");
    const exit = await reaper.wait(pid);
    assert.deepEqual(exit, { exitCode: 7, signal: null });
    assert.equal(statusCode(exit), 7);
  });

  it("reports a signal death as 128 + signal", async () => {
    const pid = await orphan("sleep 30");
    process.kill(pid, "SIGKILL");
    const exit = await reaper.wait(pid);
    assert.deepEqual(exit, { exitCode: null, signal: 9 });
    assert.equal(statusCode(exit), 137);
  });

  it("keeps an exit for a watcher that comes after the process died", async () => {
    const pid = await orphan("exit 3");
    const deadline = Date.now() + 5000;
    while (!reaped.includes(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(await reaper.wait(pid), { exitCode: 3, signal: null });
  });

  it("never takes the exit status of Node's own commands, even while orphans die around them", async () => {
    const orphans = await Promise.all(
      Array.from({ length: 20 }, (_, i) => orphan(`sleep 0.0${i % 10}; exit ${i}`)),
    );
    const commands = Array.from({ length: 40 }, (_, i) =>
      runCommand(["sh", "-c", `exit ${i % 2}`]).then(
        () => 0,
        () => 1,
      ),
    );
    assert.deepEqual(
      await Promise.all(commands),
      Array.from({ length: 40 }, (_, i) => i % 2),
    );
    const exits = await Promise.all(orphans.map((pid) => reaper.wait(pid)));
    assert.deepEqual(
      exits.map((e) => e.exitCode),
      Array.from({ length: 20 }, (_, i) => i),
    );
    assert.deepEqual(zombieChildren(), []);
  });
});
