import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { parseMountinfo } from "../../src/sys/mountinfo.js";
import { type AgentProcess, persistentMountNamespace, startAgent } from "../support/agent-process.js";
import { AgentRpc } from "../support/agent-rpc.js";
import { makeBusyboxRootfs } from "../support/busybox-rootfs.js";
import { containerSpec } from "../support/container-spec.js";
import { childrenOf, entries, procStat, runcContainers } from "../support/leftovers.js";

/**
 * An agent that dies (SIGKILL) or is stopped (SIGTERM) with a live sandbox, and a new agent started on the
 * same directories in the same mount namespace: what the first left is reclaimed before the second serves.
 */
describe("agent restart", () => {
  let dir: string;
  let rootfs: string;
  let ns: Awaited<ReturnType<typeof persistentMountNamespace>>;
  let agentDir: string;
  let round = 0;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "berth-restart-"));
    rootfs = makeBusyboxRootfs(join(dir, "rootfs"));
    ns = await persistentMountNamespace();
  });
  after(() => {
    ns.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const paths = () => ({
    runc: join(agentDir, "runc"),
    sandboxNs: join(agentDir, "sandbox-ns"),
    shm: join(agentDir, "sandbox-shm"),
  });

  /** Mount points beneath the agent's directory in the namespace the agents share, whether one runs or not. */
  const leftoverMounts = () =>
    parseMountinfo(
      execFileSync("nsenter", [`--mount=${ns.file}`, "cat", "/proc/self/mountinfo"], { encoding: "utf8" }),
    )
      .map((m) => m.mountPoint)
      .filter((p) => p.startsWith(`${agentDir}/`));

  const gone = (pid: number) => {
    const stat = procStat(pid);
    return stat === undefined || stat.state === "Z";
  };

  const start = () => startAgent({ dir: agentDir, mountNamespace: ns.file });

  const sandbox = (rpc: AgentRpc) =>
    rpc.call("createSandbox", {
      sandboxId: "sb",
      hostname: "sb",
      dns: ["nameserver 10.0.0.1"],
      sandboxPidns: true,
      storages: [
        {
          driver: "ephemeral",
          source: "shm",
          fstype: "tmpfs",
          mountPoint: paths().shm,
          options: ["size=1m"],
        },
      ],
    });

  async function runningContainer(rpc: AgentRpc, id: string): Promise<number> {
    await rpc.call("createContainer", {
      containerId: id,
      execId: id,
      OCI: containerSpec({ rootfs, args: ["sleep", "1000"] }),
    });
    await rpc.call("startContainer", { containerId: id });
    const state = execFileSync("runc", ["--root", paths().runc, "state", id], { encoding: "utf8" });
    return (JSON.parse(state) as { pid: number }).pid;
  }

  /** A live sandbox with a running container: the pids of the container's init and of berth-pause. */
  async function liveSandbox(agent: AgentProcess, rpc: AgentRpc) {
    await sandbox(rpc);
    const init = await runningContainer(rpc, "c1");
    const pause = childrenOf(agent.pid).find(([, comm]) => comm === "berth-pause")?.[0];
    assert.ok(pause, "berth-pause runs");
    return { init, pause };
  }

  /** The second agent serves a sandbox and the same container id again, nothing stacked twice. */
  async function servesAgain(agent: AgentProcess) {
    const rpc = await AgentRpc.connect(agent.socketPath);
    try {
      await sandbox(rpc);
      await runningContainer(rpc, "c1");
      const mounts = leftoverMounts();
      assert.equal(mounts.filter((m) => m === join(agentDir, "resolv.conf")).length, 1);
      assert.equal(mounts.filter((m) => m === paths().shm).length, 1);
      assert.equal(mounts.filter((m) => m === join(paths().sandboxNs, "uts")).length, 1);
      await rpc.call("destroySandbox", {});
    } finally {
      rpc.close();
    }
  }

  function assertNothingLeft(pids: number[]) {
    assert.deepEqual(leftoverMounts(), []);
    assert.deepEqual(runcContainers(paths().runc), []);
    assert.deepEqual(entries(paths().sandboxNs), []);
    for (const pid of pids) assert.ok(gone(pid), `process ${pid} is gone`);
  }

  const fresh = () => {
    agentDir = join(dir, `agent-${++round}`);
    mkdirSync(agentDir);
  };

  it("review #6: after a SIGKILL with a live sandbox, a new agent reclaims everything before it serves", async () => {
    fresh();
    const first = await start();
    const rpc = await AgentRpc.connect(first.socketPath);
    const { init, pause } = await liveSandbox(first, rpc);
    rpc.close();
    await first.stop("SIGKILL");
    assert.ok(leftoverMounts().length > 0, "the dead agent left mounts behind");

    const second = await start();
    try {
      assertNothingLeft([init, pause]);
      const line = await second.waitForLog((l) => l.msg === "reclaimed what a previous agent left");
      assert.deepEqual(line.containers, ["c1"]);
      assert.equal(line.pause, true);
      await servesAgain(second);
    } finally {
      await second.stop();
    }
    assertNothingLeft([]);
  });

  it("review #3: SIGTERM with a live container destroys the sandbox, answers the waiter and exits 0 at once", async () => {
    fresh();
    const agent = await start();
    const rpc = await AgentRpc.connect(agent.socketPath);
    const { init, pause } = await liveSandbox(agent, rpc);
    const waited = rpc.call("waitProcess", { containerId: "c1", execId: "c1" }).then(
      (reply) => reply.status,
      (error: unknown) => error,
    );
    await sleep(200);
    const started = Date.now();
    const exit = await agent.stop("SIGTERM");
    const took = Date.now() - started;
    rpc.close();
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(took < 8000, `stopped in ${took} ms`);
    assert.equal(await waited, 137, "the pending WaitProcess got the container's end");
    assertNothingLeft([init, pause]);

    const next = await start();
    try {
      await sleep(100);
      const reclaimed = next.logs.find((l) => l.msg === "reclaimed what a previous agent left");
      assert.equal(reclaimed, undefined, "a stopped agent left nothing to reclaim");
    } finally {
      await next.stop();
    }
  });

  it("an agent SIGKILLed in the middle of CreateContainer: the restart leaves nothing, the same id works", async () => {
    fresh();
    const first = await start();
    const rpc = await AgentRpc.connect(first.socketPath);
    await sandbox(rpc);
    const spec = containerSpec({
      rootfs,
      args: ["sleep", "1000"],
      prestart: [{ path: "/bin/sh", args: ["sh", "-c", "sleep 3"] }],
    });
    const creating = rpc
      .call("createContainer", {
        containerId: "c1",
        execId: "c1",
        OCI: spec,
      })
      .catch((error: unknown) => error);
    await sleep(1000);
    await first.stop("SIGKILL");
    await creating;
    rpc.close();

    const second = await start();
    try {
      assertNothingLeft([]);
      await sleep(3000);
      assert.deepEqual(runcContainers(paths().runc), [], "the dead agent's runc create did not finish later");
      await servesAgain(second);
    } finally {
      await second.stop();
    }
  });
});
