import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { DEFAULT_PATHS } from "../config/agent-paths.js";
import { createLogger } from "../log.js";
import { GuestService } from "./guest-service.js";

describe("GuestService.details()", () => {
  const root = mkdtempSync(join(tmpdir(), "berth-guest-"));
  after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, "proc/sys/kernel/seccomp"), { recursive: true });
  writeFileSync(join(root, "proc/sys/kernel/seccomp/actions_avail"), "errno trap allow\n");
  mkdirSync(join(root, "sys/devices/system/memory"), { recursive: true });
  writeFileSync(join(root, "sys/devices/system/memory/block_size_bytes"), "40000000\n");

  it("reads the configured sysfs, and asks runc about seccomp until it has an answer, then remembers it", async () => {
    let asked = 0;
    let answer: "fail" | "yes" = "fail";
    const guest = new GuestService({
      paths: DEFAULT_PATHS,
      devices: { waitFor: () => Promise.reject(new Error("no devices here")) },
      hotplugTimeoutMs: 3000,
      sysfs: join(root, "sys"),
      procfs: join(root, "proc"),
      runc: {
        features: async () => {
          asked++;
          if (answer === "fail") throw new Error("runc: unknown command features");
          return { linux: { seccomp: { enabled: true } } };
        },
      },
      initDaemon: true,
      log: createLogger({ level: "silent" }),
    });
    const first = await guest.details({ memBlockSize: true, memHotplugProbe: true });
    assert.equal(first.memBlockSizeBytes, 1n << 30n);
    assert.equal(first.supportMemHotplugProbe, false);
    assert.equal(first.agentDetails.initDaemon, true);
    assert.equal(first.agentDetails.supportsSeccomp, false);
    answer = "yes";
    assert.equal(
      (await guest.details({ memBlockSize: false, memHotplugProbe: false })).agentDetails.supportsSeccomp,
      true,
    );
    assert.equal(
      (await guest.details({ memBlockSize: false, memHotplugProbe: false })).agentDetails.supportsSeccomp,
      true,
    );
    assert.equal(asked, 2);
  });
});
