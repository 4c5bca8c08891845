import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { readKernelFile, readKernelFileSync } from "./read-kernel-file.js";

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

describe("readKernelFileSync()", () => {
  const dir = mkdtempSync(join(tmpdir(), "berth-read-sync-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const big = join(dir, "big");
  const text = "0123456789abcdef".repeat(10_000);
  writeFileSync(big, text);

  it("reads a /proc file to its end", () => {
    assert.match(readKernelFileSync("/proc/self/status"), /^Name:.*\n[\s\S]*VmRSS:/);
  });

  it("reads past its buffer, no more than `max` bytes, and a small file after a big one", () => {
    assert.equal(readKernelFileSync(big), text);
    assert.equal(readKernelFileSync(big, 1000), text.slice(0, 1000));
    assert.equal(readKernelFileSync(big, 20_000), text.slice(0, 20_000));
    writeFileSync(join(dir, "small"), "7\n");
    assert.equal(readKernelFileSync(join(dir, "small")), "7\n");
  });

  it("throws the system error and leaks no fd", () => {
    const fds = readdirSync("/proc/self/fd").length;
    assert.throws(() => readKernelFileSync(join(dir, "missing")), { code: "ENOENT" });
    assert.throws(() => readKernelFileSync(dir), { code: "EISDIR" });
    assert.equal(readdirSync("/proc/self/fd").length, fds);
  });
});
