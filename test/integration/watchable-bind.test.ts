import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, before, beforeEach, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type AgentPaths, DEFAULT_PATHS } from "../../src/config/agent-paths.js";
import { AgentError, Code } from "../../src/errors.js";
import { createLogger } from "../../src/log.js";
import { storageDriverNames } from "../../src/storage/lookup-storage-driver.js";
import { StorageRegistry } from "../../src/storage/storage-registry.js";
import type { StorageSpec } from "../../src/storage/storage-spec.js";
import { createWatchableBindDriver, KATA_WATCHABLE_BIND } from "../../src/storage/watchable-bind-driver.js";
import { WATCHABLE_TMPFS_SOURCE } from "../../src/storage/watchable-tmpfs.js";
import { CleanupStack } from "../../src/sys/cleanup-stack.js";
import { currentMounts, UnmountFlag, unmount } from "../../src/sys/mount.js";
import { mountsUnder } from "../support/leftovers.js";
import { assertOwnMountNamespace } from "../support/mount-namespace.js";

const log = createLogger({ level: "silent" });
const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

const watchable = (source: string, mountPoint: string): StorageSpec => ({
  driver: "watchable-bind",
  driverOptions: [],
  source,
  fstype: "bind",
  options: ["rbind", "ro"],
  mountPoint,
  shared: false,
});

const failsWith = (code: Code, fragment: string) => (e: unknown) => {
  assert.ok(e instanceof AgentError, `not an AgentError: ${String(e)}`);
  assert.equal(e.code, code, e.message);
  assert.ok(e.message.includes(fragment), `${JSON.stringify(e.message)} lacks ${JSON.stringify(fragment)}`);
  return true;
};

async function eventually(what: string, check: () => boolean, ms = 6000): Promise<void> {
  for (const deadline = Date.now() + ms; !check(); await sleep(20)) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
  }
}

/** A Kubernetes Secret volume as the atomic writer lays it out, at version `n`. */
function writeSecret(dir: string, n: number, values: Record<string, string>): void {
  const ts = `..2026_01_01_00_00_0${n}.00000000${n}`;
  mkdirSync(join(dir, ts), { recursive: true });
  for (const [key, value] of Object.entries(values)) {
    writeFileSync(join(dir, ts, key), value);
    if (!existsSync(join(dir, key))) symlinkSync(`..data/${key}`, join(dir, key));
  }
  const old = existsSync(join(dir, "..data"))
    ? readdirSync(dir).filter((e) => e.startsWith("..2") && e !== ts)
    : [];
  symlinkSync(ts, join(dir, "..data_tmp"));
  renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
  for (const o of old) rmSync(join(dir, o), { recursive: true });
}

/** Real tmpfs and bind mounts, in-process, under a fresh run dir per test (in the runner's own mount namespace). */
/** watchable-bind waits for no device. */
const noDevices = {
  devices: { waitFor: () => Promise.reject(new Error("watchable-bind waits for no device")) },
  sysfs: "/sys",
  timeoutMs: 0,
};

describe("watchable-bind storages", () => {
  let dir: string;
  let paths: AgentPaths;
  let shared: string;
  let watchDir: string;
  let storages: StorageRegistry;
  let timersBefore: number;

  before(assertOwnMountNamespace);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "berth-watchable-"));
    paths = { ...DEFAULT_PATHS, runDir: join(dir, "run") };
    shared = join(paths.runDir, "shared", "containers");
    watchDir = join(shared, "watchable");
    mkdirSync(watchDir, { recursive: true });
    storages = new StorageRegistry({ paths, log });
    timersBefore = timers();
  });

  afterEach(async () => {
    // A test that failed half-way must not leave a watch (and its timer) keeping the runner alive.
    const held = storages.list().length;
    await storages.releaseAll().catch(() => {});
    const left = mountsUnder(process.pid, dir);
    for (const m of [...left].reverse()) await unmount(m, UnmountFlag.DETACH).catch(() => {});
    if (mountsUnder(process.pid, dir).length === 0) rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(left, [], "mounts left under the test directory");
    assert.equal(held, 0, "storages the test did not release");
    assert.equal(timers(), timersBefore, "a timer outlived the storages");
  });

  const tmpfsMounts = async () =>
    (await currentMounts()).filter((m) => m.mountPoint === watchDir && m.source === WATCHABLE_TMPFS_SOURCE);

  it("is a storage driver GetGuestDetails lists", () => {
    assert.ok(storageDriverNames.includes("watchable-bind"));
  });

  it("copies a Secret into one tmpfs, follows its ..data swap, and release leaves nothing behind", async () => {
    const secret = join(shared, "c1-0123-secret");
    writeSecret(secret, 1, { user: "alice", pass: "one" });
    const other = join(shared, "c1-4567-config");
    mkdirSync(other);
    writeFileSync(join(other, "conf"), "x=1");
    const copyOf = join(watchDir, "c1-0123-secret");
    const [first] = await storages.add([watchable(secret, copyOf)], "c1");
    const [second] = await storages.add([watchable(other, join(watchDir, "c1-4567-config"))], "c1");
    assert.equal((await tmpfsMounts()).length, 1, "one tmpfs for both");
    assert.equal(readFileSync(join(copyOf, "pass"), "utf8"), "one");
    assert.equal(readFileSync(join(watchDir, "c1-4567-config", "conf"), "utf8"), "x=1");

    const began = Date.now();
    writeSecret(secret, 2, { user: "alice", pass: "two" });
    await eventually("the copy has the new pass", () => readFileSync(join(copyOf, "pass"), "utf8") === "two");
    assert.ok(Date.now() - began < KATA_WATCHABLE_BIND.intervalMs + 1500, "within one interval and a scan");
    // The old version goes last in the scan that swapped ..data, a moment after the new pass shows.
    const current = ["..2026_01_01_00_00_02.000000002", "..data", "pass", "user"];
    await eventually(
      "the old version is gone",
      () => JSON.stringify(readdirSync(copyOf).sort()) === JSON.stringify(current),
    );
    assert.ok(Date.now() - began < KATA_WATCHABLE_BIND.intervalMs + 1500, "within the same scan");

    await storages.release([first ?? ""]);
    assert.equal(existsSync(copyOf), false);
    assert.equal((await tmpfsMounts()).length, 1, "the other storage still uses the tmpfs");
    await storages.release([second ?? ""]);
    assert.deepEqual(await tmpfsMounts(), []);
    assert.deepEqual(readdirSync(watchDir), [], "nothing was written beneath the tmpfs");
    assert.equal(readFileSync(join(secret, "pass"), "utf8"), "two", "the source is untouched");
  });

  it("binds a source past the limits instead, and release unmounts it and leaves the source alone", async () => {
    const big = join(shared, "c1-big-configmap");
    mkdirSync(big);
    for (let i = 0; i < 16; i++) writeFileSync(join(big, `key${i}`), `${i}`);
    const mountPoint = join(watchDir, "c1-big-configmap");
    await storages.add([watchable(big, mountPoint)], "c1");
    const top = (await currentMounts()).filter((m) => m.mountPoint === mountPoint);
    assert.equal(top.length, 1, "a bind mount on the mount point");
    writeFileSync(join(big, "key99"), "live");
    assert.equal(readFileSync(join(mountPoint, "key99"), "utf8"), "live", "the source itself, not a copy");
    await storages.release([mountPoint]);
    assert.deepEqual(mountsUnder(process.pid, dir), []);
    assert.equal(readdirSync(big).length, 17, "the source keeps every file");
  });

  it("switches to a bind mount when a watched source outgrows the limits, and undoes it", async () => {
    const driver = createWatchableBindDriver({ intervalMs: 50, maxEntries: 4, maxBytes: 1024 });
    const source = join(shared, "c1-growing-secret");
    mkdirSync(source);
    writeFileSync(join(source, "a"), "a");
    const mountPoint = join(watchDir, "c1-growing-secret");
    const undo = new CleanupStack();
    const storage = watchable(source, mountPoint);
    try {
      await driver.setup({
        storage,
        mountPoint,
        containerId: "c1",
        paths,
        sysfs: "/sys",
        devices: noDevices,
        log,
        undo,
      });
      assert.equal(readFileSync(join(mountPoint, "a"), "utf8"), "a");
      writeFileSync(join(source, "b"), "b");
      await eventually("b is copied", () => existsSync(join(mountPoint, "b")), 2000);
      for (const name of ["c", "d", "e"]) writeFileSync(join(source, name), name);
      await eventually("the source is bound", () => mountsUnder(process.pid, mountPoint).length === 1, 2000);
      writeFileSync(join(source, "f"), "f");
      assert.equal(readFileSync(join(mountPoint, "f"), "utf8"), "f");
    } finally {
      await undo.unwind();
    }
    assert.deepEqual(mountsUnder(process.pid, dir), []);
    assert.deepEqual(readdirSync(source).sort(), ["a", "b", "c", "d", "e", "f"]);
    assert.deepEqual(readdirSync(watchDir), []);
  });

  it("honours the call's signal: an aborted add copies nothing and leaves nothing mounted", async () => {
    const source = join(shared, "c1-aborted-secret");
    mkdirSync(source);
    writeFileSync(join(source, "key"), "value");
    const abort = new AbortController();
    abort.abort(new AgentError(Code.DEADLINE_EXCEEDED, "the call's deadline passed"));
    await assert.rejects(
      storages.add([watchable(source, join(watchDir, "c1-aborted-secret"))], "c1", abort.signal),
      failsWith(Code.DEADLINE_EXCEEDED, "deadline"),
    );
    assert.deepEqual(mountsUnder(process.pid, dir), []);
    assert.deepEqual(readdirSync(watchDir), []);
  });

  it("refuses what it cannot watch before mounting anything", async () => {
    const source = join(shared, "c1-s-secret");
    mkdirSync(source);
    const inWatchDir = join(watchDir, "c1-s-secret");
    await assert.rejects(
      storages.add([watchable(source, inWatchDir)]),
      failsWith(Code.INVALID_ARGUMENT, "for containers"),
    );
    await assert.rejects(
      storages.add([watchable(source, join(shared, "elsewhere", "x"))], "c1"),
      failsWith(Code.INVALID_ARGUMENT, "is not directly in"),
    );
    await assert.rejects(
      storages.add([watchable(join(shared, "missing"), inWatchDir)], "c1"),
      failsWith(Code.NOT_FOUND, "does not exist"),
    );
    rmSync(watchDir, { recursive: true });
    await assert.rejects(
      storages.add([watchable(source, inWatchDir)], "c1"),
      failsWith(Code.NOT_FOUND, "watchable directory"),
    );
    assert.deepEqual(mountsUnder(process.pid, dir), []);
    assert.deepEqual(storages.list(), []);
  });
});
