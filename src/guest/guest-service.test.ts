import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, describe, it } from "node:test";
import { DEFAULT_PATHS } from "../config/agent-paths.js";
import { createLogger } from "../log.js";
import { FakeGuestSysfs } from "./fake-guest-sysfs.test-util.js";
import { type GuestDeps, GuestService } from "./guest-service.js";

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
      containers: { widenCpusets: () => Promise.reject(new Error("no containers here")) },
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

describe("GuestService.onlineCpuMem()", () => {
  let fake: FakeGuestSysfs;
  afterEach(() => fake.close());
  const guest = (widened: string[]) =>
    new GuestService({
      paths: DEFAULT_PATHS,
      devices: { waitFor: () => Promise.reject(new Error("no devices here")) },
      hotplugTimeoutMs: 3000,
      sysfs: fake.root,
      procfs: "/proc",
      runc: { features: async () => ({}) },
      initDaemon: true,
      containers: {
        widenCpusets: async (online) => {
          widened.push(online);
        },
      },
      log: createLogger({ level: "silent" }),
    } satisfies GuestDeps);

  it("with nb_cpus 0 and cpu_only does nothing, and succeeds", async () => {
    fake = new FakeGuestSysfs({ present: 2, online: [0] });
    fake.memory({ 1: false });
    const widened: string[] = [];
    await guest(widened).onlineCpuMem({ nbCpus: 0, cpuOnly: true });
    assert.deepEqual(widened, []);
    assert.equal(fake.state("cpu1"), "0");
    assert.equal(fake.state("memory1"), "0");
  });

  it("with nb_cpus 0 onlines the memory only, and widens no cpuset", async () => {
    fake = new FakeGuestSysfs({ present: 2, online: [0] });
    fake.memory({ 0: true, 1: false });
    const widened: string[] = [];
    await guest(widened).onlineCpuMem({ nbCpus: 0, cpuOnly: false });
    assert.deepEqual(widened, []);
    assert.equal(fake.state("cpu1"), "0");
    assert.equal(fake.state("memory1"), "1");
  });

  it("onlines CPUs up to the total asked for, then widens the containers' cpusets to the online list", async () => {
    fake = new FakeGuestSysfs({ present: 3, online: [0] });
    fake.memory({ 1: false });
    fake.startKernel();
    const widened: string[] = [];
    await guest(widened).onlineCpuMem({ nbCpus: 2, cpuOnly: true });
    assert.deepEqual(widened, ["0-1"]);
    assert.equal(fake.state("cpu2"), "0");
    assert.equal(fake.state("memory1"), "0");
  });

  it("widens the cpusets even when the CPUs were online already (another hypervisor onlined them)", async () => {
    fake = new FakeGuestSysfs({ present: 2, online: [0, 1] });
    const widened: string[] = [];
    await guest(widened).onlineCpuMem({ nbCpus: 2, cpuOnly: false });
    assert.deepEqual(widened, ["0-1"]);
  });
});
