import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import { probeMemory } from "./memory-probe.js";

describe("probeMemory()", () => {
  const root = mkdtempSync(join(tmpdir(), "berth-probe-"));
  after(() => rmSync(root, { recursive: true, force: true }));

  it("writes each address in hex to the probe file, in order", async () => {
    const sysfs = join(root, "with");
    mkdirSync(join(sysfs, "devices/system/memory"), { recursive: true });
    writeFileSync(join(sysfs, "devices/system/memory/probe"), "");
    await probeMemory(sysfs, [0x140000000n]);
    assert.equal(readFileSync(join(sysfs, "devices/system/memory/probe"), "utf8"), "0x140000000");
    await probeMemory(sysfs, []);
  });

  it("is FAILED_PRECONDITION naming the kernel option when the kernel has no probe file", async () => {
    const sysfs = join(root, "without");
    mkdirSync(join(sysfs, "devices/system/memory"), { recursive: true });
    await assert.rejects(
      probeMemory(sysfs, [0x140000000n]),
      (e: unknown) =>
        e instanceof AgentError &&
        e.code === Code.FAILED_PRECONDITION &&
        /CONFIG_ARCH_MEMORY_PROBE/.test(e.message),
    );
  });

  it("refuses an unbounded list before writing", async () => {
    await assert.rejects(
      probeMemory(
        join(root, "none"),
        Array.from({ length: 4097 }, () => 0n),
      ),
      (e: unknown) => e instanceof AgentError && e.code === Code.INVALID_ARGUMENT,
    );
  });
});
