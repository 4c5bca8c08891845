import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runcArgs } from "./runc-args.js";

const g = { root: "/run/runc", log: "/run/runc/.logs/c1.json" };
const head = ["--root", "/run/runc", "--log", "/run/runc/.logs/c1.json", "--log-format", "json"];

describe("runcArgs", () => {
  it("creates without a new keyring, pivoting by default", () => {
    assert.deepEqual(runcArgs.create(g, "c1", { bundle: "/b", pidFile: "/b/pid", noPivot: false }), [
      ...head,
      "create",
      "--bundle",
      "/b",
      "--pid-file",
      "/b/pid",
      "--no-new-keyring",
      "c1",
    ]);
  });

  it("adds --no-pivot and --console-socket when asked", () => {
    const argv = runcArgs.create(g, "c1", {
      bundle: "/b",
      pidFile: "/b/pid",
      noPivot: true,
      consoleSocket: "/b/console.sock",
    });
    assert.deepEqual(argv.slice(head.length + 6), [
      "--no-pivot",
      "--console-socket",
      "/b/console.sock",
      "c1",
    ]);
  });

  it("builds start, kill, delete and state", () => {
    assert.deepEqual(runcArgs.start(g, "c1"), [...head, "start", "c1"]);
    assert.deepEqual(runcArgs.exec(g, "c1", { process: "/b/p.json", pidFile: "/b/p.pid" }), [
      ...head,
      "exec",
      "--detach",
      "--process",
      "/b/p.json",
      "--pid-file",
      "/b/p.pid",
      "c1",
    ]);
    assert.deepEqual(runcArgs.kill(g, "c1", 9, true), [...head, "kill", "--all", "c1", "9"]);
    assert.deepEqual(runcArgs.kill(g, "c1", 15, false), [...head, "kill", "c1", "15"]);
    assert.deepEqual(runcArgs.delete(g, "c1", true), [...head, "delete", "--force", "c1"]);
    assert.deepEqual(runcArgs.state(g, "c1"), [...head, "state", "c1"]);
  });

  it("builds features", () => {
    assert.deepEqual(runcArgs.features(g), [...head, "features"]);
  });

  it("builds pause, resume, update (resources on stdin) and ps (JSON pids)", () => {
    assert.deepEqual(runcArgs.pause(g, "c1"), [...head, "pause", "c1"]);
    assert.deepEqual(runcArgs.resume(g, "c1"), [...head, "resume", "c1"]);
    assert.deepEqual(runcArgs.update(g, "c1"), [...head, "update", "--resources", "-", "c1"]);
    assert.deepEqual(runcArgs.ps(g, "c1"), [...head, "ps", "--format", "json", "c1"]);
  });
});
