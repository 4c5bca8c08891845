import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Code } from "../errors.js";
import { blockSizeFromSysfs, memoryBlockSize, memoryHotplugProbe } from "./memory-info.js";

describe("blockSizeFromSysfs()", () => {
  it("reads sysfs's hexadecimal, with or without 0x", () => {
    assert.equal(blockSizeFromSysfs("8000000\n"), 128n * 1024n * 1024n);
    assert.equal(blockSizeFromSysfs("0x40000000"), 1n << 30n);
    assert.equal(blockSizeFromSysfs("FFFFFFFFFFFFFFFF"), 2n ** 64n - 1n);
  });

  it("refuses anything else rather than misreading it (Kata once parsed it as decimal)", () => {
    for (const text of ["", "\n", "0x", "12g", "-1", "1 2", "1".repeat(17)]) {
      assert.throws(() => blockSizeFromSysfs(text), {
        code: Code.INTERNAL,
        message: /not a hexadecimal number/,
      });
    }
  });
});

describe("memoryBlockSize() and memoryHotplugProbe()", () => {
  const sysfs = mkdtempSync(join(tmpdir(), "berth-sysfs-"));
  const memory = join(sysfs, "devices/system/memory");
  after(() => rmSync(sysfs, { recursive: true, force: true }));

  it("answer 0 and false on a guest without memory block devices", async () => {
    assert.equal(await memoryBlockSize(sysfs), 0n);
    assert.equal(await memoryHotplugProbe(sysfs), false);
  });

  it("read the block size and see the probe file", async () => {
    mkdirSync(memory, { recursive: true });
    writeFileSync(join(memory, "block_size_bytes"), "8000000\n");
    writeFileSync(join(memory, "probe"), "");
    assert.equal(await memoryBlockSize(sysfs), 0x8000000n);
    assert.equal(await memoryHotplugProbe(sysfs), true);
  });

  it("name the file when its content is garbage", async () => {
    writeFileSync(join(memory, "block_size_bytes"), "lots\n");
    await assert.rejects(memoryBlockSize(sysfs), {
      code: Code.INTERNAL,
      message: new RegExp(`cannot read the memory block size from ${memory}/block_size_bytes: .*"lots\\\\n"`),
    });
  });
});
