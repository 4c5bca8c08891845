import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { bundlePaths } from "../bundle/bundle-paths.js";
import type { AgentPaths } from "../config/agent-paths.js";
import { AgentError, Code } from "../errors.js";
import { capturingLog } from "../log.test-util.js";
import type { Process } from "../oci/oci-spec.js";
import { ContainerProcess } from "../process/container-process.js";
import { ProcessIo } from "../process/process-io.js";
import { CleanupStack } from "../sys/cleanup-stack.js";
import type { ExitStatus } from "../sys/reaper.js";
import { Container } from "./container.js";
import type { ContainerBounds } from "./container-deps.js";
import { FakeRuntime, fakeContainerDeps, scratchPaths } from "./fake-runtime.test-util.js";

const BOUNDS: ContainerBounds = { runcKillMs: 100, exitWaitMs: 200, stdioLingerMs: 100, unwaitedExecs: 3 };

const code = (c: Code, message?: RegExp) => (e: unknown) =>
  e instanceof AgentError && e.code === c && (message === undefined || message.test(e.message));

const isPending = async (promise: Promise<unknown>) => {
  const pending = Symbol("pending");
  const outcome = await Promise.race([
    promise.catch(() => undefined),
    new Promise((resolve) => setTimeout(() => resolve(pending), 50)),
  ]);
  return outcome === pending;
};

const fdCount = async () => (await readdir("/proc/self/fd")).length;

/** Waits (up to a second) until this process holds `n` fds: a closed socket lets its fd go a moment later. */
async function untilFds(n: number) {
  const deadline = Date.now() + 1000;
  while ((await fdCount()) !== n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(await fdCount(), n);
}

const spec = (args: string[]): Process => ({ args, cwd: "/", user: { uid: 0, gid: 0 } });

describe("Container, on a scripted runtime", () => {
  let dir: string;
  let paths: AgentPaths;
  let runtime: FakeRuntime;
  const { log } = capturingLog();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-container-"));
    paths = scratchPaths(dir);
  });
  afterEach(() => runtime?.killAll());
  after(() => rm(dir, { recursive: true, force: true }));

  /**
   * A created container whose init is a real `sleep` (its exit as `initExited` says, by default as the
   * reaper sees it), its undo recorded in the runtime's calls.
   */
  async function created(
    id: string,
    o: {
      bounds?: Partial<ContainerBounds>;
      initExited?: Promise<ExitStatus>;
      cgroup?: string;
      ownPidNamespace?: boolean;
    } = {},
  ): Promise<Container> {
    runtime = new FakeRuntime();
    const deps = fakeContainerDeps(runtime, paths, log, { bounds: { ...BOUNDS, ...o.bounds } });
    const bundle = bundlePaths(paths, id);
    await mkdir(bundle.dir, { recursive: true });
    await runtime.create(id, { bundle: bundle.dir, pidFile: bundle.initPid, noPivot: false });
    const pid = Number(await readFile(bundle.initPid, "utf8"));
    const init = new ContainerProcess({
      execId: id,
      pid,
      io: new ProcessIo({}),
      exited: o.initExited ?? runtime.reaper.wait(pid),
      init: true,
    });
    const undo = new CleanupStack();
    undo.push("runtime", () => runtime.deleteLeftovers(id));
    return new Container({
      id,
      bundle,
      init,
      cgroup: { v1: new Map(), v2: undefined },
      undo,
      deps,
      onOom: undefined,
      ownPidNamespace: o.ownPidNamespace ?? false,
    });
  }

  async function running(id: string, o: Parameters<typeof created>[1] = {}): Promise<Container> {
    const c = await created(id, o);
    await c.start();
    return c;
  }

  it("review #10: an exec whose runtime answers after removal began is killed, released and fails; removal waits for it", async () => {
    const c = await running("c1");
    const fds = await fdCount();
    const late = runtime.script("exec", { hold: true });
    const exec = c.exec("e1", spec(["sleep", "1000"]));
    await late.reached;
    const removal = c.remove();
    assert.ok(await isPending(removal), "removal waits for the exec being started");
    await assert.rejects(c.exec("e2", spec(["true"])), code(Code.FAILED_PRECONDITION, /c1 is being removed/));
    late.release();
    await assert.rejects(
      exec,
      code(Code.FAILED_PRECONDITION, /container c1 is being removed: exec "e1" was killed/),
    );
    await removal;
    assert.deepEqual(runtime.live("c1"), []);
    assert.deepEqual(runtime.calls, ["create c1", "start c1", "exec c1", "kill c1", "deleteLeftovers c1"]);
    await untilFds(fds);
  });

  it("removes a running container with a PID namespace of its own by SIGKILL to its init, without runc kill", async () => {
    const c = await running("k1", { ownPidNamespace: true });
    await c.remove();
    assert.equal(c.init.exit?.signal, 9);
    assert.deepEqual(runtime.calls.slice(2), ["deleteLeftovers k1"]);
  });

  it("removes a paused container with a PID namespace of its own through runc kill, which thaws it", async () => {
    const c = await running("k2", { ownPidNamespace: true });
    await c.pause();
    await c.remove();
    assert.deepEqual(
      runtime.calls.filter((call) => !call.startsWith("pause")),
      ["create k2", "start k2", "kill k2", "deleteLeftovers k2"],
    );
  });

  it("review #14: when runc kill hangs, removal SIGKILLs the init itself, within its bounds", async () => {
    const c = await running("c2");
    runtime.script("kill", { hang: true });
    const t0 = performance.now();
    await c.remove();
    assert.ok(performance.now() - t0 < BOUNDS.runcKillMs + BOUNDS.exitWaitMs + 150);
    assert.equal(c.init.exit?.signal, 9);
    assert.deepEqual(runtime.calls.slice(2), ["kill c2", "deleteLeftovers c2"]);
    assert.equal(c.state, "stopped");
  });

  it("review #14: an init that outlives runc kill is SIGKILLed after exitWaitMs", async () => {
    const c = await running("c3");
    runtime.script("kill", { noop: true });
    const t0 = performance.now();
    await c.remove();
    const took = performance.now() - t0;
    assert.ok(took >= BOUNDS.exitWaitMs - 10 && took < 2 * BOUNDS.exitWaitMs + 100, `took ${took} ms`);
    assert.equal(c.init.exit?.signal, 9);
  });

  it("review #14: removal goes on, bounded, when the init never seems to exit", async () => {
    const c = await running("c4", { initExited: new Promise(() => {}) });
    runtime.script("kill", { fail: new AgentError(Code.INTERNAL, "runc kill: broken") });
    const t0 = performance.now();
    await c.remove();
    assert.ok(performance.now() - t0 < BOUNDS.exitWaitMs + 150);
    assert.deepEqual(runtime.calls.slice(2), ["kill c4", "deleteLeftovers c4"]);
  });

  it("review #14: removing a container whose init has gone kills what is left in its cgroup, without runc", async () => {
    const cgroup = join(dir, "fake-cgroup");
    await mkdir(cgroup, { recursive: true });
    const c = await running("c11", { cgroup });
    runtime.script("kill", { hang: true });
    const left = await c.exec("e1", spec(["sleep", "1000"]));
    await writeFile(join(cgroup, "cgroup.procs"), `${left.pid}\n`);
    process.kill(c.init.pid, "SIGKILL");
    await c.init.exited;
    await c.remove();
    assert.equal((await left.exited).signal, 9);
    assert.deepEqual(runtime.calls.slice(2), ["exec c11", "deleteLeftovers c11"]);
  });

  it("review #15: ExecProcess past the limit of processes not waited for is RESOURCE_EXHAUSTED; WaitProcess frees one", async () => {
    const c = await running("c5");
    for (const id of ["e1", "e2", "e3"]) await c.exec(id, spec(["true"]));
    await assert.rejects(
      c.exec("e4", spec(["true"])),
      code(Code.RESOURCE_EXHAUSTED, /c5 holds 3 exec processes not released by WaitProcess.*WaitProcess/),
    );
    assert.equal(await c.wait("e1"), 0);
    await c.exec("e4", spec(["true"]));
    await c.remove();
  });

  it("review #15: an exited exec nobody waits for closes its stdio after the linger, and keeps its status", async () => {
    const c = await running("c6");
    const fds = await fdCount();
    const proc = await c.exec("e1", spec(["sh", "-c", "echo hi; exit 4"]));
    assert.ok((await fdCount()) > fds);
    await proc.exited;
    await new Promise((resolve) => setTimeout(resolve, BOUNDS.stdioLingerMs));
    await untilFds(fds);
    await proc.io.stdout?.read(100);
    assert.equal((await proc.io.stdout?.read(100))?.length, 0, "reads end in EOF");
    assert.equal(await c.wait("e1"), 4);
    await c.remove();
  });

  it("review #7: a wait ended by its signal fails with the reason and releases nothing", async () => {
    const c = await running("c7");
    await c.exec("e1", spec(["sh", "-c", "sleep 0.3; exit 5"]));
    const ac = new AbortController();
    const wait = c.wait("e1", ac.signal);
    ac.abort(new AgentError(Code.DEADLINE_EXCEEDED, "the caller's deadline"));
    await assert.rejects(wait, code(Code.DEADLINE_EXCEEDED, /the caller's deadline/));
    assert.equal(await c.wait("e1"), 5);
    await c.remove();
  });

  it("review #15: an exec whose caller has gone when the runtime answers is killed and released", async () => {
    const c = await running("c8");
    const late = runtime.script("exec", { hold: true });
    const ac = new AbortController();
    const exec = c.exec("e1", spec(["sleep", "1000"]), ac.signal);
    await late.reached;
    ac.abort(new AgentError(Code.CANCELLED, "the caller has gone"));
    late.release();
    await assert.rejects(exec, code(Code.CANCELLED, /the caller has gone/));
    assert.equal(runtime.live("c8").length, 1, "only the init is left");
    assert.throws(() => c.process("e1"), code(Code.NOT_FOUND));
    await c.remove();
  });

  it("review #15: a start whose caller has gone once runc start has run leaves the container stopped", async () => {
    const c = await created("c9");
    const start = runtime.script("start", { hold: true, deaf: true });
    const ac = new AbortController();
    const starting = c.start(ac.signal);
    await start.reached;
    ac.abort(new AgentError(Code.DEADLINE_EXCEEDED, "deadline exceeded after 1s"));
    start.release();
    await assert.rejects(starting, code(Code.DEADLINE_EXCEEDED, /deadline exceeded after 1s/));
    assert.equal(c.init.exit?.signal, 9);
    assert.equal(c.state, "stopped");
    assert.deepEqual(runtime.calls, ["create c9", "start c9", "kill c9"]);
    await c.remove();
  });

  it("review #15: a start ended before it reaches runc does nothing", async () => {
    const c = await created("c10");
    await assert.rejects(
      c.start(AbortSignal.abort(new AgentError(Code.CANCELLED, "gone"))),
      code(Code.CANCELLED),
    );
    assert.equal(c.state, "created");
    assert.deepEqual(runtime.calls, ["create c10"]);
    await c.remove();
  });
});
