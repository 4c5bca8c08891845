import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import { onlineCpus } from "./cpus.js";

describe("onlineCpus()", () => {
  it("reads <sysfs>/devices/system/cpu/online without its newline", async () => {
    const sysfs = await mkdtemp(join(tmpdir(), "berth-cpus-"));
    try {
      await mkdir(join(sysfs, "devices/system/cpu"), { recursive: true });
      await writeFile(join(sysfs, "devices/system/cpu/online"), "0-3,5\n");
      assert.equal(await onlineCpus(sysfs), "0-3,5");
    } finally {
      await rm(sysfs, { recursive: true, force: true });
    }
  });

  it("reads the real guest's list", async () => {
    assert.match(await onlineCpus(), /^\d+(-\d+)?(,\d+(-\d+)?)*$/);
  });

  it("fails NOT_FOUND naming the file when sysfs has none", async () => {
    await assert.rejects(
      onlineCpus("/nonexistent-sysfs"),
      (e) =>
        e instanceof AgentError &&
        e.code === Code.NOT_FOUND &&
        e.message.startsWith("cannot read the online CPUs from /nonexistent-sysfs/devices/system/cpu/online"),
    );
  });
});
