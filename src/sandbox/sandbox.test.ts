import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import type { AgentPaths } from "../config/agent-paths.js";
import type { CreateContainerRequest } from "../container/create-container.js";
import { FakeRuntime, fakeContainerDeps, scratchPaths } from "../container/fake-runtime.test-util.js";
import { AgentError, Code } from "../errors.js";
import { capturingLog } from "../log.test-util.js";
import { CleanupStack } from "../sys/cleanup-stack.js";
import { OomEvents } from "./oom-events.js";
import { Sandbox } from "./sandbox.js";

const code = (c: Code, message?: RegExp) => (e: unknown) =>
  e instanceof AgentError && e.code === c && (message === undefined || message.test(e.message));

describe("Sandbox, on a scripted runtime", () => {
  let dir: string;
  let paths: AgentPaths;
  let runtime: FakeRuntime;
  const { log } = capturingLog();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-sandbox-"));
    paths = scratchPaths(dir);
  });
  afterEach(() => runtime?.killAll());
  after(() => rm(dir, { recursive: true, force: true }));

  function sandbox(): Sandbox {
    runtime = new FakeRuntime();
    const deps = fakeContainerDeps(runtime, paths, log, { bounds: { runcKillMs: 100, exitWaitMs: 200 } });
    return new Sandbox({
      id: "sb",
      hostname: "sb",
      namespaces: { ipc: join(dir, "ipc"), uts: join(dir, "uts") },
      guestHooks: { prestart: [], poststart: [], poststop: [] },
      pidNamespace: undefined,
      undo: new CleanupStack(),
      oomEvents: new OomEvents(log),
      deps,
    });
  }

  /** A request whose rootfs is already the bundle's, so creating it mounts nothing. */
  const request = (id: string): CreateContainerRequest => ({
    containerId: id,
    execId: "",
    devices: [],
    storages: [],
    sandboxPidns: false,
    spec: {
      ociVersion: "1.0.2",
      process: { args: ["sleep", "1000"], cwd: "/", user: { uid: 0, gid: 0 } },
      root: { path: join(paths.runDir, id, "rootfs") },
    },
  });

  const runDirEntries = async () =>
    (await readdir(paths.runDir).catch(() => [])).filter((e) => !e.startsWith("."));

  it("review #5: DestroySandbox ends a creation in flight, waits for its rollback, and never inserts it", async () => {
    const sb = sandbox();
    const create = runtime.script("create", { hold: true });
    const creating = sb.createContainer(request("c1"));
    await create.reached;
    const destroyed = sb.destroy();
    await assert.rejects(
      creating,
      code(Code.ABORTED, /sandbox sb was destroyed while container c1 was being created/),
    );
    assert.deepEqual(await destroyed, []);
    assert.deepEqual(runtime.calls, ["create c1", "deleteLeftovers c1"]);
    assert.throws(() => sb.container("c1"), code(Code.NOT_FOUND));
    assert.deepEqual(await runDirEntries(), []);
    await assert.rejects(
      sb.createContainer(request("c2")),
      code(Code.FAILED_PRECONDITION, /being destroyed/),
    );
  });

  it("review #5: a creation whose runtime finishes after DestroySandbox began removes itself and fails", async () => {
    const sb = sandbox();
    const create = runtime.script("create", { hold: true, deaf: true });
    const creating = sb.createContainer(request("c1"));
    await create.reached;
    const destroyed = sb.destroy();
    create.release();
    await assert.rejects(creating, code(Code.ABORTED, /destroyed while container c1/));
    await destroyed;
    assert.deepEqual(runtime.live("c1"), []);
    assert.equal(runtime.calls.filter((c) => c === "deleteLeftovers c1").length, 1);
    assert.deepEqual(await runDirEntries(), []);
  });

  it("review #5: RemoveContainer of an id being created ends the creation and answers once it is rolled back", async () => {
    const sb = sandbox();
    const create = runtime.script("create", { hold: true, deaf: true });
    const creating = sb.createContainer(request("c1"));
    await create.reached;
    await assert.rejects(sb.createContainer(request("c1")), code(Code.ALREADY_EXISTS));
    const removed = sb.removeContainer("c1");
    create.release();
    await removed;
    await assert.rejects(creating, code(Code.ABORTED, /container c1 was removed while it was being created/));
    assert.deepEqual(runtime.live("c1"), []);
    assert.deepEqual(await runDirEntries(), []);
    const again = await sb.createContainer(request("c1"));
    assert.equal(sb.container("c1"), again);
    await sb.destroy();
  });

  it("review #15: a creation whose caller has gone is rolled back and fails with the caller's reason", async () => {
    const sb = sandbox();
    const create = runtime.script("create", { hold: true });
    const ac = new AbortController();
    const creating = sb.createContainer(request("c1"), ac.signal);
    await create.reached;
    ac.abort(new AgentError(Code.DEADLINE_EXCEEDED, "deadline exceeded after 1s"));
    await assert.rejects(creating, code(Code.DEADLINE_EXCEEDED, /after 1s/));
    assert.deepEqual(runtime.calls, ["create c1", "deleteLeftovers c1"]);
    assert.throws(() => sb.container("c1"), code(Code.NOT_FOUND));
  });

  it("review #11: the runtime's undo is armed before runc create runs, so a failed create is cleaned up", async () => {
    const sb = sandbox();
    runtime.script("create", {
      fail: new AgentError(Code.DEADLINE_EXCEEDED, "runc create: timed out after 60000 ms"),
    });
    await assert.rejects(sb.createContainer(request("c1")), code(Code.DEADLINE_EXCEEDED, /timed out/));
    assert.deepEqual(runtime.calls, ["create c1", "deleteLeftovers c1"]);
    assert.deepEqual(await runDirEntries(), []);
  });

  it("review #14: one container whose runtime kill hangs does not hold DestroySandbox for good", async () => {
    const sb = sandbox();
    await sb.createContainer(request("c1"));
    runtime.script("kill", { hang: true });
    const t0 = performance.now();
    assert.deepEqual(await sb.destroy(), []);
    assert.ok(performance.now() - t0 < 1000);
    assert.deepEqual(runtime.live("c1"), []);
  });
});
