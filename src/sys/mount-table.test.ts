import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { mount, unmount } from "./mount.js";
import { MountTable } from "./mount-table.js";

describe("MountTable", () => {
  const dir = mkdtempSync(join(tmpdir(), "berth-mount-table-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps the parsed table while the kernel says it has not changed, and reads it again after a mount and an unmount", async () => {
    const table = new MountTable("/proc/self/mountinfo");
    try {
      const first = await table.mounts();
      assert.equal(await table.mounts(), first);
      await mount("berth-mount-table", dir, "tmpfs", ["size=1m"]);
      try {
        const mounted = await table.mounts();
        assert.notEqual(mounted, first);
        assert.ok(mounted.some((m) => m.mountPoint === dir && m.source === "berth-mount-table"));
        assert.equal(await table.mounts(), mounted);
      } finally {
        await unmount(dir);
      }
      assert.ok(!(await table.mounts()).some((m) => m.mountPoint === dir));
    } finally {
      table.close();
    }
  });

  it("reads a file that is not procfs's at each call, and tries again after a read that failed", async () => {
    const file = join(dir, "mountinfo");
    const table = new MountTable(file);
    await assert.rejects(table.mounts(), { code: "ENOENT" });
    writeFileSync(file, "22 1 254:0 / / rw - ext4 /dev/vda rw\n");
    assert.deepEqual(
      (await table.mounts()).map((m) => m.mountPoint),
      ["/"],
    );
    writeFileSync(file, "22 1 254:0 / / rw - ext4 /dev/vda rw\n30 22 0:40 / /data rw - xfs /dev/vdb rw\n");
    assert.deepEqual(
      (await table.mounts()).map((m) => m.mountPoint),
      ["/", "/data"],
    );
  });
});
