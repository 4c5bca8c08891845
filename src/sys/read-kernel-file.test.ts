import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { readKernelFile } from "./read-kernel-file.js";

describe("readKernelFile()", () => {
  const dir = mkdtempSync(join(tmpdir(), "berth-read-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const big = join(dir, "big");
  const text = "0123456789abcdef".repeat(10_000);
  writeFileSync(big, text);

  it("reads a /proc file (size 0 to stat) to its end", async () => {
    assert.match(await readKernelFile("/proc/self/status"), /^Name:.*\n[\s\S]*VmRSS:/);
  });

  it("reads past its first buffer, and no more than `max` bytes", async () => {
    assert.equal(await readKernelFile(big), text);
    assert.equal(await readKernelFile(big, 1000), text.slice(0, 1000));
    assert.equal(await readKernelFile(big, 20_000), text.slice(0, 20_000));
  });

  it("rejects with the system error", async () => {
    await assert.rejects(readKernelFile(join(dir, "missing")), { code: "ENOENT" });
    await assert.rejects(readKernelFile(dir), { code: "EISDIR" });
  });
});
