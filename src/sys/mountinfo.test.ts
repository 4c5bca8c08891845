import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseMountinfo } from "./mountinfo.js";

const SAMPLE = `22 1 253:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
35 22 0:30 / /run/kata\\040containers rw,nosuid - tmpfs tmpfs rw,size=10240k
36 22 253:0 /srv/data /mnt/bind rw,relatime master:1 - ext4 /dev/vda rw
garbage line without separator
`;

describe("parseMountinfo()", () => {
  it("reads every field, unescapes octal escapes and skips malformed lines", () => {
    assert.deepEqual(parseMountinfo(SAMPLE), [
      {
        id: 22,
        parentId: 1,
        major: 253,
        minor: 0,
        root: "/",
        mountPoint: "/",
        options: "rw,relatime",
        fsType: "ext4",
        source: "/dev/vda",
        superOptions: "rw",
      },
      {
        id: 35,
        parentId: 22,
        major: 0,
        minor: 30,
        root: "/",
        mountPoint: "/run/kata containers",
        options: "rw,nosuid",
        fsType: "tmpfs",
        source: "tmpfs",
        superOptions: "rw,size=10240k",
      },
      {
        id: 36,
        parentId: 22,
        major: 253,
        minor: 0,
        root: "/srv/data",
        mountPoint: "/mnt/bind",
        options: "rw,relatime",
        fsType: "ext4",
        source: "/dev/vda",
        superOptions: "rw",
      },
    ]);
  });
});
