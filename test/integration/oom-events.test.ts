import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  writeFileSync,
} from "node:fs";
import { constants } from "node:os";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { credentials, Metadata, makeGenericClientConstructor, type ServiceError } from "@grpc/grpc-js";
import { watchOom } from "../../src/cgroup/oom-watch.js";
import { createLogger } from "../../src/log.js";
import { Code } from "../../src/protocol/ttrpc/code.js";
import { AgentRpc } from "../support/agent-rpc.js";
import { Fixture, failsWith } from "../support/container-fixture.js";
import { fdCount, signal, sleep, stillPending, T, waitFor } from "../support/process-helpers.js";

const TEST = { timeout: 60_000 };
const MiB = 1024n * 1024n;
/** 32 MiB of memory and no swap (memory+swap limit equal to the memory limit). */
const LIMIT_32M = { limit: 32n * MiB, swap: 32n * MiB };
/** Doubles a shell string until the OOM killer stops it: one process, one kill. */
const HOG = "x=a; while :; do x=$x$x; done";
const SANDBOX = "oom";
const { SIGKILL } = constants.signals;

/** eventfds process `pid` holds (libuv has some of its own). */
const eventfds = (pid: number) =>
  readdirSync(`/proc/${pid}/fd`).filter((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`) === "anon_inode:[eventfd]";
    } catch {
      return false;
    }
  }).length;

/** GetOOMEvent over gRPC (the agent serves it on the same socket) with a deadline; resolves with the error. */
function grpcPoll(socketPath: string, deadlineMs: number): Promise<ServiceError | null> {
  const path = "/grpc.AgentService/GetOOMEvent";
  const raw = (b: Uint8Array) => Buffer.from(b);
  const Client = makeGenericClientConstructor({}, "raw");
  const client = new Client(`unix://${socketPath}`, credentials.createInsecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      raw,
      raw,
      Buffer.alloc(0),
      new Metadata(),
      { deadline: Date.now() + deadlineMs },
      (error: ServiceError | null) => {
        client.close();
        resolve(error);
      },
    );
  });
}

/** Whether a poll ended with an error of `code` whose message matches `pattern`. */
const endedWith = (outcome: string | { error: unknown }, code: Code, pattern: RegExp) =>
  typeof outcome === "object" && failsWith(code, pattern)(outcome.error);

describe("GetOOMEvent", () => {
  const f = new Fixture();

  before(() => f.start());
  after(() => f.stop());
  beforeEach(() => f.rpc.call("createSandbox", { sandboxId: SANDBOX, hostname: SANDBOX }, T));
  afterEach(() => f.rpc.call("destroySandbox", {}, T).catch(() => {}));

  /** A GetOOMEvent poll: the container id, or `{ error }`; it never rejects. */
  const poll = (timeoutMs = 60_000, rpc: AgentRpc = f.rpc) =>
    rpc.call("getOOMEvent", {}, timeoutMs).then(
      (r) => r.containerId,
      (e: unknown) => ({ error: e }),
    );

  /** Creates and starts container `id` running `args` with 32 MiB of memory and no swap. */
  async function start(id: string, args: string[]) {
    const OCI = f.spec(args, { memory: LIMIT_32M });
    await f.rpc.call("createContainer", { containerId: id, execId: id, OCI }, T);
    await f.rpc.call("startContainer", { containerId: id }, T);
  }

  /** Runs container `id` (`sh -c script`, 32 MiB) to its end and removes it; returns its exit status. */
  async function run(id: string, script: string) {
    try {
      await start(id, ["sh", "-c", script]);
      return await waitFor(f, id, "");
    } finally {
      await f.rpc.call("removeContainer", { containerId: id }, T);
    }
  }

  it(
    "reports a container OOM-killed at its 32 MiB limit to exactly one of four pending polls; DestroySandbox ends the other three with NOT_FOUND",
    TEST,
    async (t) => {
      const polls = [poll(), poll(), poll(), poll()];
      const t0 = performance.now();
      assert.equal(await run("hog", HOG), 128 + SIGKILL);
      const first = await Promise.race(polls.map((p, i) => p.then((r) => ({ i, r }))));
      assert.equal(first.r, "hog");
      t.diagnostic(
        `OOM event received ${(performance.now() - t0).toFixed(0)} ms after StartContainer was sent`,
      );
      const others = polls.filter((_, i) => i !== first.i);
      for (const p of others) assert.ok(await stillPending(p, 300), "the other polls wait for later events");

      await f.rpc.call("destroySandbox", {}, T);
      for (const p of others) {
        const outcome = await p;
        assert.ok(endedWith(outcome, Code.NOT_FOUND, /sandbox oom was destroyed/), JSON.stringify(outcome));
      }
      assert.ok(endedWith(await poll(T), Code.FAILED_PRECONDITION, /no sandbox/));
    },
  );

  it("keeps an OOM that happened with no poll pending for the next poll, once", TEST, async () => {
    assert.equal(await run("unpolled", HOG), 128 + SIGKILL);
    assert.equal(await poll(T), "unpolled");
    assert.ok(await stillPending(poll(), 500), "one OOM, one event");
  });

  it(
    "reports no event for a normal exit, a SIGKILL, a container removal, or the sandbox's own container",
    TEST,
    async () => {
      const pending = poll();
      assert.equal(await run("clean", "exit 0"), 0);
      await start("killed", ["sleep", "1000"]);
      await signal(f, "killed", "", SIGKILL);
      assert.equal(await waitFor(f, "killed", ""), 128 + SIGKILL);
      await f.rpc.call("removeContainer", { containerId: "killed" }, T);
      await start("running", ["sleep", "1000"]);
      await f.rpc.call("removeContainer", { containerId: "running" }, T);
      assert.equal(
        await run(SANDBOX, HOG),
        128 + SIGKILL,
        "Kata watches no OOM of the sandbox container either",
      );
      assert.ok(await stillPending(pending, 300), "no event so far");
      assert.equal(await run("marker", HOG), 128 + SIGKILL);
      assert.equal(await pending, "marker");
    },
  );

  it("gives no event to a poll that timed out (ttrpc or gRPC) or whose connection closed", TEST, async () => {
    assert.ok(endedWith(await poll(300), Code.DEADLINE_EXCEEDED, /timed out|deadline exceeded/));
    assert.equal((await grpcPoll(f.agent.socketPath, 300))?.code, Code.DEADLINE_EXCEEDED);
    const other = await AgentRpc.connect(f.agent.socketPath);
    const dropped = poll(60_000, other);
    await sleep(100);
    other.close();
    assert.equal(typeof (await dropped), "object");
    await sleep(100); // the agent's own deadline may come a moment after the client's
    assert.equal(await run("after-cancel", HOG), 128 + SIGKILL);
    assert.equal(await poll(T), "after-cancel");
  });

  it(
    "leaks no fd: one eventfd per started container (and the poll's duplicate), none once it is removed or the sandbox destroyed",
    TEST,
    async () => {
      const pid = f.agent.pid;
      assert.equal(await run("warm-up", "exit 0"), 0);
      const before = { fds: fdCount(pid), eventfds: eventfds(pid) };
      const ids = ["w1", "w2", "w3"];
      for (const id of ids) await start(id, ["sleep", "1000"]);
      assert.equal(eventfds(pid), before.eventfds + 2 * ids.length);
      await f.rpc.call("removeContainer", { containerId: "w1" }, T);
      assert.equal(eventfds(pid), before.eventfds + 2 * (ids.length - 1));
      await f.rpc.call("destroySandbox", {}, T);
      assert.equal(eventfds(pid), before.eventfds);
      assert.equal(fdCount(pid), before.fds);
      f.assertNoContainerLeft(ids);
    },
  );
});

/**
 * The cgroup v1 watch on a memory cgroup of its own, without runc: an OOM in it is one event, and its
 * removal (which signals the eventfd too) is none.
 */
describe("watchOom() on a real cgroup v1 memory cgroup", () => {
  const log = createLogger({ level: "silent" });
  const shArgs = (dir: string, script: string) => [
    "-c",
    `echo $$ > ${dir}/cgroup.procs && exec sh -c '${script}'`,
  ];

  /** Runs `script` in cgroup `dir` and resolves with the signal that ended it. */
  function runIn(dir: string, script: string) {
    const child = spawn("sh", shArgs(dir, script), { stdio: "ignore" });
    return new Promise<string | null>((resolve) => child.once("exit", (_code, sig) => resolve(sig)));
  }

  /** A memory cgroup with a 32 MiB limit for `body`; removed afterwards unless `body` removed it. */
  async function inCgroup(name: string, body: (dir: string) => Promise<void>) {
    const dir = `/sys/fs/cgroup/memory/berth-${name}-${process.pid}`;
    mkdirSync(dir);
    try {
      writeFileSync(`${dir}/memory.limit_in_bytes`, String(32n * MiB));
      await body(dir);
    } finally {
      if (existsSync(dir)) rmdirSync(dir);
    }
  }

  it("reports an OOM kill once, and the cgroup's removal not at all", TEST, async () => {
    await inCgroup("oom-removal", async (dir) => {
      let ooms = 0;
      const held = eventfds(process.pid);
      const watch = await watchOom({ version: 1, dir }, () => ooms++, log);
      try {
        assert.equal(await runIn(dir, HOG), "SIGKILL");
        for (let i = 0; ooms === 0 && i < 500; i++) await sleep(2);
        assert.equal(ooms, 1);
        assert.match(readFileSync(`${dir}/memory.oom_control`, "utf8"), /oom_kill 1/);
        rmdirSync(dir);
        await sleep(200);
        assert.equal(ooms, 1, "the removal is not an OOM");
        assert.equal(eventfds(process.pid), held, "the removal ended the watch and closed its eventfd");
      } finally {
        watch.close();
      }
    });
  });

  it("reports at close an OOM whose signal it has not read yet", TEST, async () => {
    await inCgroup("oom-flush", async (dir) => {
      let ooms = 0;
      const watch = await watchOom({ version: 1, dir }, () => ooms++, log);
      // spawnSync holds the event loop: the eventfd is signalled but cannot be read before close().
      assert.equal(spawnSync("sh", shArgs(dir, HOG)).signal, "SIGKILL");
      assert.equal(ooms, 0);
      watch.close();
      assert.equal(ooms, 1);
    });
  });
});
