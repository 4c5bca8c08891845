import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MountFlag as F, isFlagOption, parseMountOptions } from "./mount-options.js";

describe("parseMountOptions()", () => {
  it("turns known options into flags and passes the rest to the filesystem", () => {
    assert.deepEqual(parseMountOptions(["ro", "nosuid", "nodev", "size=64m", "mode=1777"]), {
      flags: F.RDONLY | F.NOSUID | F.NODEV,
      propagation: [],
      data: "size=64m,mode=1777",
    });
  });

  it("lets a later option undo an earlier one", () => {
    assert.equal(parseMountOptions(["ro", "noexec", "rw", "exec"]).flags, 0);
    assert.equal(parseMountOptions(["rw", "ro"]).flags, F.RDONLY);
  });

  it("splits comma lists inside entries and ignores empty ones", () => {
    assert.deepEqual(parseMountOptions(["ro,relatime", "", " trans=virtio ,version=9p2000.L"]), {
      flags: F.RDONLY | F.RELATIME,
      propagation: [],
      data: "trans=virtio,version=9p2000.L",
    });
  });

  it("keeps propagation options apart, in order", () => {
    assert.deepEqual(parseMountOptions(["rbind", "rprivate", "slave"]), {
      flags: F.BIND | F.REC,
      propagation: [F.PRIVATE | F.REC, F.SLAVE],
      data: "",
    });
  });

  it("treats defaults as no flag at all", () => {
    assert.deepEqual(parseMountOptions(["defaults"]), { flags: 0, propagation: [], data: "" });
  });
});

describe("isFlagOption()", () => {
  it("knows every per-mount option mountinfo shows, and nothing else", () => {
    for (const o of [
      "rw",
      "ro",
      "nosuid",
      "nodev",
      "noexec",
      "noatime",
      "nodiratime",
      "relatime",
      "nosymfollow",
    ]) {
      assert.ok(isFlagOption(o), o);
    }
    for (const o of ["size=1m", "shared", "constructor", "toString", ""]) assert.ok(!isFlagOption(o), o);
  });
});
