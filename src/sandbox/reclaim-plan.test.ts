import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { MountInfo } from "../sys/mountinfo.js";
import { holdsMount, mountsToReclaim, runsOnRoot } from "./reclaim-plan.js";

const mount = (id: number, mountPoint: string): MountInfo => ({
  id,
  parentId: 1,
  major: 0,
  minor: id,
  root: "/",
  mountPoint,
  options: "rw",
  fsType: "tmpfs",
  source: "tmpfs",
  superOptions: "rw",
});

describe("mountsToReclaim()", () => {
  const table = [
    mount(1, "/"),
    mount(2, "/run"),
    mount(3, "/run/kata-containers/shared/containers"),
    mount(4, "/run/kata-containers/c1/rootfs"),
    mount(5, "/run/kata-containers/c1/rootfs/proc"),
    mount(6, "/var/run/sandbox-ns/uts"),
    mount(7, "/mnt/storage"),
    mount(8, "/mnt/storage"),
    mount(9, "/mnt/storage/inner"),
    mount(10, "/mnt/storage-other"),
    mount(11, "/run/kata-containers-other/x"),
  ];
  const roots = { owned: ["/run/kata-containers", "/var/run/sandbox-ns"], recorded: ["/mnt/storage"] };

  it("takes the mounts beneath the owned dirs and at or beneath recorded mount points, newest first", () => {
    assert.deepEqual(
      mountsToReclaim(table, roots).map((m) => m.id),
      [9, 8, 7, 6, 5, 4, 3],
    );
  });

  it("never takes an owned directory itself, nor a sibling that merely shares its prefix", () => {
    const owned = [mount(1, "/run/kata-containers"), mount(2, "/mnt/storage-other")];
    assert.deepEqual(mountsToReclaim(owned, { ...roots, recorded: ["/mnt/storage"] }), []);
  });

  it("tells whether a path holds a mount, itself or beneath", () => {
    assert.equal(holdsMount(table, "/run/kata-containers/c1"), true);
    assert.equal(holdsMount(table, "/mnt/storage"), true);
    assert.equal(holdsMount(table, "/run/kata-containers/c2"), false);
    assert.equal(holdsMount(table, "/mnt/stor"), false);
  });
});

describe("runsOnRoot()", () => {
  it("finds runc's --root in both spellings, and only that root", () => {
    const root = "/run/runc";
    assert.equal(runsOnRoot(["runc", "--root", root, "create", "c1"], root), true);
    assert.equal(runsOnRoot(["runc", `--root=${root}`, "delete", "c1"], root), true);
    assert.equal(runsOnRoot(["runc", "--root", "/run/runc2", "create"], root), false);
    assert.equal(runsOnRoot(["runc", "init"], root), false);
    assert.equal(runsOnRoot(["sh", "-c", `echo --root ${root}`], root), false);
  });
});
