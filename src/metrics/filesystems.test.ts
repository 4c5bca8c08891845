import assert from "node:assert/strict";
import type { StatsFs } from "node:fs";
import { describe, it } from "node:test";
import { parseMountinfo } from "../sys/mountinfo.js";
import { measuredFilesystems, usageItems } from "./filesystems.js";

const MOUNTINFO = [
  "20 1 254:1 / / rw,relatime - ext4 /dev/vda1 rw",
  "21 20 0:5 / /proc rw - proc proc rw",
  "22 20 254:1 /srv /mnt/bind rw - ext4 /dev/vda1 rw",
  "23 20 254:2 / /mnt/ro rw - xfs /dev/vdb ro,relatime",
  "24 20 0:40 / /run/kata-containers/abc/rootfs rw - overlay overlay rw,lowerdir=/l,upperdir=/u",
  "25 20 8:1 / /boot/efi rw - vfat /dev/sda1 rw",
  "26 20 0:41 / /mnt/hidden rw - btrfs /dev/vdc rw",
  "27 26 0:42 / /mnt/hidden rw - tmpfs tmpfs rw",
  "28 20 254:4 / /mnt/with\\040space rw - ext4 /dev/mapper/x rw",
  "29 20 0:43 / /mnt/nosource rw - ext4  rw",
].join("\n");

describe("measuredFilesystems()", () => {
  it("measures writable ext4, xfs, btrfs, vfat and overlay mounts, each device once, as Kata", () => {
    assert.deepEqual(measuredFilesystems(parseMountinfo(MOUNTINFO)), [
      { mount: "/", device: "vda1" },
      { mount: "/run/kata-containers/abc/rootfs", device: "overlay" },
      { mount: "/boot/efi", device: "sda1" },
      { mount: "/mnt/with space", device: "x" },
      { mount: "/mnt/nosource", device: "0:43" },
    ]);
  });
});

describe("usageItems()", () => {
  const stats: StatsFs = {
    type: 0xef53,
    bsize: 4096,
    blocks: 1000,
    bfree: 300,
    bavail: 250,
    files: 64,
    ffree: 40,
  };

  it("gives df's total, used and available bytes (available: f_bavail), and the inodes", () => {
    assert.deepEqual(usageItems(stats), {
      bytes: [
        ["total", 4_096_000],
        ["used", 2_867_200],
        ["available", 1_024_000],
      ],
      inodes: [
        ["total", 64],
        ["used", 24],
        ["available", 40],
      ],
    });
  });
});
