import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Code } from "../../src/protocol/ttrpc/code.js";
import { failsWith, sandboxFixture } from "../support/container-fixture.js";
import type { SpecOptions } from "../support/container-spec.js";
import { sleep, T } from "../support/process-helpers.js";

const TEST = { timeout: 90_000 };

/** Health.Check answers within a second. */
async function assertServing(f: ReturnType<typeof sandboxFixture>) {
  const t0 = performance.now();
  await f.rpc.client.call("grpc.Health", "Check", new Uint8Array(0), { timeoutMs: 1000 });
  assert.ok(performance.now() - t0 < 1000);
}

/** Errors the agent survived only because it logs them instead of dying. */
const survivedBugs = (f: ReturnType<typeof sandboxFixture>) =>
  f.agent.logs.filter((l) => l.msg === "unhandled rejection" || l.msg === "uncaught exception");

/** Pids of processes whose argv[0] is `name`. */
function processesNamed(name: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0")[0] === name) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

describe("terminal processes and runc's console socket", () => {
  const f = sandboxFixture("console");

  const failingTerminalCreate = async (id: string, more: Partial<SpecOptions>, reason: RegExp) => {
    const spec = f.spec(["sh"], { terminal: true, ...more });
    await assert.rejects(
      f.rpc.call("createContainer", { containerId: id, execId: id, OCI: spec }, T),
      failsWith(Code.INTERNAL, reason),
    );
    await sleep(200); // room for a late rejection to surface
    assert.deepEqual(survivedBugs(f), []);
    await assertServing(f);
    f.assertNoContainerLeft([id]);
  };

  it(
    "review #1: a terminal CreateContainer whose prestart hook fails fails with runc's reason; the agent serves on",
    TEST,
    () =>
      failingTerminalCreate("console-hook", { prestart: [{ path: "/bin/false", args: ["false"] }] }, /hook/i),
  );

  it(
    "review #1: a terminal CreateContainer with a bind mount from a missing source fails with runc's reason",
    TEST,
    () =>
      failingTerminalCreate(
        "console-mount",
        {
          mounts: [
            {
              destination: "/data",
              source: "/nonexistent/berth-dir",
              type: "bind",
              options: ["rbind", "rw"],
            },
          ],
        },
        /nonexistent\/berth-dir/,
      ),
  );

  it(
    "review #4: terminal creates waiting on slow prestart hooks leave fs calls (CopyFile) fast",
    TEST,
    async () => {
      const hook = `berth-hook-${process.pid}`;
      const ids = ["slow-1", "slow-2", "slow-3", "slow-4"];
      const spec = f.spec(["sleep", "1000"], {
        terminal: true,
        prestart: [{ path: "/bin/sleep", args: [hook, "6"] }],
      });
      const shared = join(f.agent.dir, "run/shared/containers");
      mkdirSync(shared, { recursive: true });
      const creates = ids.map((id) =>
        f.rpc.call("createContainer", { containerId: id, execId: id, OCI: spec }, 60_000),
      );
      try {
        for (let i = 0; processesNamed(hook).length < ids.length; i++) {
          assert.ok(i < 1500, "the four hooks did not start");
          await sleep(20);
        }
        const t0 = performance.now();
        await f.rpc.call(
          "copyFile",
          {
            path: join(shared, "small"),
            fileMode: 0o100644,
            dirMode: 0o755,
            fileSize: 3n,
            data: Buffer.from("abc"),
          },
          T,
        );
        const took = performance.now() - t0;
        assert.ok(took < 1000, `a 3-byte CopyFile took ${took.toFixed(0)} ms while four consoles waited`);
        assert.equal(readFileSync(join(shared, "small"), "utf8"), "abc");
        await Promise.all(creates);
      } finally {
        await Promise.allSettled(creates);
        for (const id of ids) await f.rpc.call("removeContainer", { containerId: id }, T).catch(() => {});
        rmSync(join(f.agent.dir, "run/shared"), { recursive: true, force: true });
      }
      f.assertNoContainerLeft(ids);
      assert.deepEqual(survivedBugs(f), []);
    },
  );
});
