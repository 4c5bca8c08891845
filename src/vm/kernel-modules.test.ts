import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import { moduleFilesIn } from "./kernel-modules.js";

const dir = "/c/kernels/k/lib/modules/6.1.0-57-amd64";

describe("moduleFilesIn", () => {
  it("takes the insmod lines' files relative to the module directory, options and builtins left out", () => {
    const output = [
      `insmod ${dir}/kernel/drivers/virtio/virtio_ring.ko `,
      `insmod ${dir}/kernel/drivers/virtio/virtio.ko`,
      "builtin crc32c",
      `insmod ${dir}/kernel/drivers/scsi/scsi_mod.ko scan=none`,
      "",
    ].join("\n");
    assert.deepEqual(moduleFilesIn(output, dir), [
      "kernel/drivers/virtio/virtio_ring.ko",
      "kernel/drivers/virtio/virtio.ko",
      "kernel/drivers/scsi/scsi_mod.ko",
    ]);
  });

  it("refuses a file outside the module directory", () => {
    assert.throws(
      () => moduleFilesIn("insmod /lib/modules/other/x.ko\n", dir),
      (e: unknown) => e instanceof AgentError && e.code === Code.INVALID_ARGUMENT,
    );
  });
});
