import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import type { MountInfo } from "../sys/mountinfo.js";
import { remountPlan, remountRequest } from "./ephemeral-remount.js";
import type { StorageSpec } from "./storage-spec.js";

const entry = (options: string[], driver = "ephemeral"): StorageSpec => ({
  driver,
  driverOptions: [],
  source: "tmpfs",
  fstype: "tmpfs",
  options,
  mountPoint: "/run/kata-containers/sandbox/ephemeral/cache",
  shared: false,
});

const tmpfsMount: MountInfo = {
  id: 90,
  parentId: 30,
  major: 0,
  minor: 52,
  root: "/",
  mountPoint: "/run/kata-containers/sandbox/ephemeral/cache",
  options: "rw,nosuid,nodev,relatime",
  fsType: "tmpfs",
  source: "tmpfs",
  superOptions: "rw,size=10240k,mode=755",
};

const failsWith = (code: Code, fragment: string) => (e: unknown) =>
  e instanceof AgentError && e.code === code && e.message.includes(fragment);

describe("remountRequest()", () => {
  it("keeps flags and size, implies remount, drops fsgid and Kata's own options", () => {
    assert.deepEqual(
      remountRequest(
        entry(["remount", "size=2048M", "fsgid=1000", "io.katacontainers.fs-opt.x=1", "noexec"]),
      ),
      { mountPoint: "/run/kata-containers/sandbox/ephemeral/cache", flags: ["noexec"], size: "2048M" },
    );
    assert.equal(remountRequest(entry(["remount,size=50%"]))?.size, "50%");
  });

  it("answers nothing to change for no options, or only fsgid and remount", () => {
    assert.equal(remountRequest(entry([])), undefined);
    assert.equal(remountRequest(entry(["remount", "fsgid=5"])), undefined);
  });

  it("refuses another driver in Kata's words", () => {
    assert.throws(
      () => remountRequest(entry(["remount", "size=1M"], "local")),
      failsWith(
        Code.INVALID_ARGUMENT,
        "Unsupported storage type for syncing mounts local. Only ephemeral storage update is supported",
      ),
    );
  });

  it("refuses data options, bind, propagation and a malformed size", () => {
    for (const option of ["mode=0777", "bind", "rbind", "shared", "size=ten", "size="]) {
      assert.throws(
        () => remountRequest(entry(["remount", option])),
        failsWith(Code.INVALID_ARGUMENT, `it changes mount flags and size= only, not "${option}"`),
        option,
      );
    }
  });
});

describe("remountPlan()", () => {
  const request = { mountPoint: tmpfsMount.mountPoint, flags: [], size: "20M" };

  it("remounts with the mount's own flags first, and undoes to the size it had", () => {
    assert.deepEqual(remountPlan(request, tmpfsMount, "tmpfs"), {
      target: tmpfsMount.mountPoint,
      source: "tmpfs",
      fsType: "tmpfs",
      apply: ["rw", "nosuid", "nodev", "relatime", "remount", "size=20M"],
      undo: ["rw", "nosuid", "nodev", "relatime", "remount", "size=10240k"],
    });
  });

  it("leaves the size alone when only flags change", () => {
    const plan = remountPlan({ ...request, flags: ["ro"], size: undefined }, tmpfsMount, "tmpfs");
    assert.deepEqual(plan.apply, ["rw", "nosuid", "nodev", "relatime", "remount", "ro"]);
    assert.deepEqual(plan.undo, ["rw", "nosuid", "nodev", "relatime", "remount"]);
  });

  it("refuses a mount point where the storage is not what is mounted", () => {
    assert.throws(
      () => remountPlan(request, undefined, "tmpfs"),
      failsWith(Code.FAILED_PRECONDITION, "the storage's tmpfs is not what is mounted there (nothing)"),
    );
    assert.throws(
      () => remountPlan(request, { ...tmpfsMount, fsType: "ext4" }, "tmpfs"),
      failsWith(Code.FAILED_PRECONDITION, "(ext4)"),
    );
  });

  it("refuses to resize a hugetlbfs, whose remount would ignore the size", () => {
    const huge = { ...tmpfsMount, fsType: "hugetlbfs", superOptions: "rw,pagesize=2M,size=4194304" };
    assert.throws(
      () => remountPlan(request, huge, "hugetlbfs"),
      failsWith(Code.FAILED_PRECONDITION, "a hugetlbfs cannot be resized by a remount"),
    );
    assert.deepEqual(
      remountPlan({ ...request, size: undefined, flags: ["noexec"] }, huge, "hugetlbfs").apply,
      ["rw", "nosuid", "nodev", "relatime", "remount", "noexec"],
    );
  });
});
