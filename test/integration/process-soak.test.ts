import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "../../src/protocol/ttrpc/code.js";
import { failsWith, sandboxFixture } from "../support/container-fixture.js";
import { echoCycle, exec, fdCount, sleep, T, zombieChildren } from "../support/process-helpers.js";

const CYCLES = 200;

/** Polls `measure` for up to `ms` until `ok` holds of it; returns the last value. */
async function settle<V>(measure: () => V, ok: (v: V) => boolean, ms = 2000): Promise<V> {
  const deadline = Date.now() + ms;
  let v = measure();
  while (!ok(v) && Date.now() < deadline) {
    await sleep(50);
    v = measure();
  }
  return v;
}

describe("exec/wait soak: no zombie, no leaked fd, no memory growth in the agent", () => {
  const f = sandboxFixture("soak");

  it(`runs ${CYCLES} exec/wait cycles in one container and leaves the agent as it found it`, {
    timeout: 120_000,
  }, async (t) => {
    const id = "soak";
    await f.rpc.call("createContainer", { containerId: id, execId: id, OCI: f.spec(["sleep", "1000"]) }, T);
    try {
      await f.rpc.call("startContainer", { containerId: id }, T);
      for (let i = 0; i < 10; i++) await echoCycle(f, id, i); // warm-up: lazy allocations, JIT
      const pid = f.agent.pid;
      const fds0 = fdCount(pid);
      const rss0 = f.agent.rssKiB();
      const t0 = performance.now();
      for (let i = 10; i < 10 + CYCLES; i++) await echoCycle(f, id, i);
      const took = performance.now() - t0;
      const fds1 = await settle(
        () => fdCount(pid),
        (n) => Math.abs(n - fds0) <= 2,
      );
      const zombies = await settle(
        () => zombieChildren(pid),
        (z) => z.length === 0,
      );
      const rss1 = f.agent.rssKiB();
      t.diagnostic(
        `${CYCLES} cycles in ${(took / 1000).toFixed(1)} s (${(took / CYCLES).toFixed(1)} ms each); ` +
          `agent fds ${fds0} → ${fds1}; RSS ${(rss0 / 1024).toFixed(1)} → ${(rss1 / 1024).toFixed(1)} MiB`,
      );
      assert.deepEqual(zombies, [], "no zombie child of the agent");
      assert.ok(Math.abs(fds1 - fds0) <= 2, `agent fds ${fds0} before, ${fds1} after`);
      assert.ok(rss1 - rss0 < 10 * 1024, `agent RSS grew by ${((rss1 - rss0) / 1024).toFixed(1)} MiB`);
    } finally {
      await f.rpc.call("removeContainer", { containerId: id }, T).catch(() => {});
    }
    f.assertNoContainerLeft([id]);
  });

  it("RemoveContainer reaps the execs nobody waited for and closes their fds", {
    timeout: 60_000,
  }, async () => {
    const pid = f.agent.pid;
    // Live, exited-unread and tty execs, none of them waited for; the first round warms up.
    const round = async (id: string) => {
      await f.rpc.call("createContainer", { containerId: id, execId: id, OCI: f.spec(["sleep", "1000"]) }, T);
      try {
        await f.rpc.call("startContainer", { containerId: id }, T);
        await exec(f, id, "live", ["sleep", "1000"]);
        await exec(f, id, "exited", ["sh", "-c", "echo unread; echo unread >&2"]);
        await exec(f, id, "tty", ["sleep", "1000"], { terminal: true });
        await exec(f, id, "bg", ["sh", "-c", "sleep 1000 & echo x"]);
      } finally {
        await f.rpc.call("removeContainer", { containerId: id }, T);
      }
      f.assertNoContainerLeft([id]);
      await assert.rejects(
        f.rpc.call("waitProcess", { containerId: id, execId: "live" }, T),
        failsWith(Code.NOT_FOUND, new RegExp(id)),
      );
    };
    await round("unwaited-0");
    const fds0 = await settle(
      () => fdCount(pid),
      () => false,
      200,
    );
    await round("unwaited-1");
    const fds1 = await settle(
      () => fdCount(pid),
      (n) => Math.abs(n - fds0) <= 2,
    );
    const zombies = await settle(
      () => zombieChildren(pid),
      (z) => z.length === 0,
    );
    assert.deepEqual(zombies, [], "no zombie child of the agent");
    assert.ok(Math.abs(fds1 - fds0) <= 2, `agent fds ${fds0} before, ${fds1} after`);
  });
});
