import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import { blockDeviceFromUevent, growCommand } from "./volume-resize.js";

describe("growCommand()", () => {
  it("grows ext2, ext3 and ext4 by their device, xfs by its mount point", () => {
    assert.deepEqual(growCommand("ext4")("/dev/vdb", "/mnt/v"), ["resize2fs", "/dev/vdb"]);
    assert.deepEqual(growCommand("ext3")("/dev/sda", "/mnt/v"), ["resize2fs", "/dev/sda"]);
    assert.deepEqual(growCommand("ext2")("/dev/sda", "/mnt/v"), ["resize2fs", "/dev/sda"]);
    assert.deepEqual(growCommand("xfs")("/dev/vdb", "/mnt/v"), ["xfs_growfs", "/mnt/v"]);
  });

  it("refuses any other type with FAILED_PRECONDITION naming it", () => {
    for (const type of ["squashfs", "tmpfs", "vfat", "btrfs", "constructor"]) {
      assert.throws(
        () => growCommand(type),
        (e: unknown) =>
          e instanceof AgentError &&
          e.code === Code.FAILED_PRECONDITION &&
          e.message === `cannot grow a "${type}" filesystem online (berth grows ext2, ext3, ext4, xfs)`,
      );
    }
  });
});

describe("blockDeviceFromUevent()", () => {
  it("names the disk or partition a sysfs uevent file describes", () => {
    assert.deepEqual(blockDeviceFromUevent("MAJOR=254\nMINOR=16\nDEVNAME=vdb\nDEVTYPE=disk\nDISKSEQ=3\n"), {
      name: "vdb",
      partition: false,
    });
    assert.deepEqual(blockDeviceFromUevent("MAJOR=8\nMINOR=1\nDEVNAME=sda1\nDEVTYPE=partition\nPARTN=1\n"), {
      name: "sda1",
      partition: true,
    });
  });

  it("answers nothing for a file without a safe name", () => {
    assert.equal(blockDeviceFromUevent("MAJOR=7\nMINOR=0\n"), undefined);
    assert.equal(blockDeviceFromUevent("DEVNAME=../etc\n"), undefined);
    assert.equal(blockDeviceFromUevent(""), undefined);
  });
});
