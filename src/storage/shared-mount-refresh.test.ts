import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { Code } from "../errors.js";
import { capturingLog } from "../log.test-util.js";
import { CommandError, type RunOptions, type RunResult } from "../sys/exec.js";
import { parseMountinfo } from "../sys/mountinfo.js";
import { mountPointsUnder, SharedMountRefresh } from "./shared-mount-refresh.js";

const SHARED = "/run/kata-containers/shared/containers";

const MOUNTINFO = [
  `30 1 0:40 / ${SHARED} rw,relatime - virtiofs kataShared rw`,
  `31 30 0:40 /c1/rootfs ${SHARED}/c1/rootfs rw,relatime - virtiofs kataShared rw`,
  `32 30 0:41 / ${SHARED}/watchable rw - tmpfs tmpfs rw`,
  `33 32 0:41 / ${SHARED}/watchable rw - tmpfs tmpfs rw`,
  `34 1 0:42 / ${SHARED}-other rw - tmpfs tmpfs rw`,
  "",
].join("\n");

describe("mountPointsUnder()", () => {
  it("takes the mounts strictly under the directory, each once, not the directory nor its namesakes", () => {
    assert.deepEqual(mountPointsUnder(parseMountinfo(MOUNTINFO), SHARED), [
      `${SHARED}/c1/rootfs`,
      `${SHARED}/watchable`,
    ]);
  });
});

describe("SharedMountRefresh", () => {
  let procfs: string;
  let calls: string[][];

  beforeEach(() => {
    procfs = mkdtempSync(join(tmpdir(), "berth-refresh-"));
    mkdirSync(join(procfs, "self"));
    writeFileSync(join(procfs, "self/mountinfo"), MOUNTINFO);
    calls = [];
  });
  afterEach(() => rmSync(procfs, { recursive: true, force: true }));

  const refresher = (run: (argv: readonly string[], o?: RunOptions) => Promise<RunResult>) => {
    const { log, lines } = capturingLog<{ count?: number }>();
    const recording = (argv: readonly string[], o?: RunOptions) => {
      calls.push([...argv]);
      return run(argv, o);
    };
    return {
      lines,
      refresh: new SharedMountRefresh({ sharedDir: SHARED, procfs, log, timeoutMs: 50, run: recording }),
    };
  };

  it("stats every mount under the shared directory in one command", async () => {
    const { refresh } = refresher(async () => ({ stdout: "", stderr: "" }));
    await refresh.refresh();
    assert.deepEqual(calls, [["stat", "--", `${SHARED}/c1/rootfs`, `${SHARED}/watchable`]]);
  });

  it("runs nothing when no mount is there", async () => {
    writeFileSync(join(procfs, "self/mountinfo"), MOUNTINFO.split("\n")[0] ?? "");
    const { refresh } = refresher(async () => ({ stdout: "", stderr: "" }));
    await refresh.refresh();
    assert.deepEqual(calls, []);
  });

  it("never fails: a failed stat, a missing stat command or an unreadable mount table are logged", async () => {
    const details = { argv: ["stat"], signal: null, stderr: "stat: cannot statx: No such file or directory" };
    const failed = new CommandError(Code.INTERNAL, "stat exited with 1", { ...details, exitCode: 1 });
    const missing = new CommandError(Code.NOT_FOUND, "cannot run", { ...details, exitCode: null });
    for (const error of [failed, missing]) {
      const { refresh, lines } = refresher(() => Promise.reject(error));
      await refresh.refresh();
      assert.equal(lines.at(-1)?.level, error === failed ? "info" : "warn", JSON.stringify(lines));
    }
    rmSync(join(procfs, "self/mountinfo"));
    const { refresh, lines } = refresher(async () => ({ stdout: "", stderr: "" }));
    await refresh.refresh();
    assert.match(lines.at(-1)?.msg ?? "", /cannot read the mount table/);
  });

  it("answers within its bound when the stat hangs, and starts no other until it returns", async () => {
    let finish = () => {};
    const hung = new Promise<RunResult>((resolve) => {
      finish = () => resolve({ stdout: "", stderr: "" });
    });
    const { refresh, lines } = refresher(() => hung);
    const started = Date.now();
    await refresh.refresh();
    const took = Date.now() - started;
    assert.ok(took >= 50 && took < 2000, `answered after ${took} ms`);
    await refresh.refresh();
    assert.equal(calls.length, 1);
    assert.match(lines.at(-1)?.msg ?? "", /has not returned/);
    finish();
    await hung;
    await new Promise((resolve) => setImmediate(resolve));
    await refresh.refresh();
    assert.equal(calls.length, 2);
  });

  it("answers at once when its call is aborted", async () => {
    const { refresh } = refresher(() => new Promise<RunResult>(() => {}));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 5);
    const started = Date.now();
    await refresh.refresh(controller.signal);
    assert.ok(Date.now() - started < 50);
  });
});
