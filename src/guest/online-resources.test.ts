import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import { FakeGuestSysfs } from "./fake-guest-sysfs.test-util.js";
import {
  addedMemoryBlock,
  bringCpusOnline,
  bringMemoryOnline,
  type OnlineOptions,
  onlineMemoryBlock,
} from "./online-resources.js";

const failsWith = (code: Code, pattern: RegExp) => (e: unknown) =>
  e instanceof AgentError && e.code === code && pattern.test(e.message);

describe("bringCpusOnline()", () => {
  let fake: FakeGuestSysfs;
  afterEach(() => fake.close());
  const bounds = (more: Partial<OnlineOptions> = {}): OnlineOptions => ({
    sysfs: fake.root,
    timeoutMs: 300,
    pollMs: 10,
    ...more,
  });

  it("writes nothing when at least the total asked for is online already", async () => {
    fake = new FakeGuestSysfs({ present: 4, online: [0, 1] });
    assert.deepEqual(await bringCpusOnline(bounds(), 2), []);
    assert.deepEqual(await bringCpusOnline(bounds(), 1), []);
    assert.equal(fake.state("cpu2"), "0");
    assert.equal(fake.state("cpu3"), "0");
  });

  it("onlines as many offline CPUs as are missing, lowest first, and waits until the kernel lists them", async () => {
    fake = new FakeGuestSysfs({ present: 4, online: [0] });
    fake.startKernel();
    assert.deepEqual(await bringCpusOnline(bounds(), 3), [1, 2]);
    assert.equal(fake.onlineList(), "0-2");
    assert.equal(fake.state("cpu3"), "0");
  });

  it("onlines a vCPU whose directory appears only after the call began", async () => {
    fake = new FakeGuestSysfs({ present: 1, online: [0], possible: "0-3" });
    fake.startKernel();
    setTimeout(() => fake.plugCpu(1), 40);
    assert.deepEqual(await bringCpusOnline(bounds(), 2), [1]);
    assert.equal(fake.onlineList(), "0-1");
  });

  it("fails DEADLINE_EXCEEDED naming a CPU the kernel never lists online", async () => {
    fake = new FakeGuestSysfs({ present: 2, online: [0] });
    const started = performance.now();
    await assert.rejects(
      bringCpusOnline(bounds(), 2),
      failsWith(
        Code.DEADLINE_EXCEEDED,
        /^1 of the 2 CPUs asked for are not online after 300 ms \(online: 0\); onlined but not listed online: cpu1$/,
      ),
    );
    assert.ok(performance.now() - started >= 290);
    assert.equal(fake.state("cpu1"), "1");
  });

  it("fails DEADLINE_EXCEEDED when no offline CPU is there to online", async () => {
    fake = new FakeGuestSysfs({ present: 2, online: [0, 1], possible: "0-3" });
    await assert.rejects(
      bringCpusOnline(bounds(), 3),
      failsWith(
        Code.DEADLINE_EXCEEDED,
        /^1 of the 3 CPUs asked for are not online after 300 ms \(online: 0-1\); no other offline CPU is present \(was the vCPU hot-plugged\?\)$/,
      ),
    );
  });

  it("fails at once, writing nothing, when the kernel can never have that many CPUs", async () => {
    fake = new FakeGuestSysfs({ present: 2, online: [0] });
    const started = performance.now();
    await assert.rejects(
      bringCpusOnline(bounds({ timeoutMs: 5000 }), 3),
      failsWith(
        Code.FAILED_PRECONDITION,
        /^cannot have 3 CPUs online: the guest kernel can have 2 \(possible: 0-1\)$/,
      ),
    );
    assert.ok(performance.now() - started < 1000);
    assert.equal(fake.state("cpu1"), "0");
  });

  it("stops waiting when the call's signal ends it, with the signal's reason", async () => {
    fake = new FakeGuestSysfs({ present: 2, online: [0] });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new AgentError(Code.CANCELLED, "the host went away")), 50);
    const started = performance.now();
    await assert.rejects(
      bringCpusOnline(bounds({ timeoutMs: 5000, signal: controller.signal }), 2),
      failsWith(Code.CANCELLED, /^the host went away$/),
    );
    assert.ok(performance.now() - started < 1000);
  });

  it("starts nothing for a signal already aborted", async () => {
    fake = new FakeGuestSysfs({ present: 2, online: [0] });
    await assert.rejects(
      bringCpusOnline(
        bounds({ signal: AbortSignal.abort(new AgentError(Code.DEADLINE_EXCEEDED, "late")) }),
        2,
      ),
      failsWith(Code.DEADLINE_EXCEEDED, /^late$/),
    );
    assert.equal(fake.state("cpu1"), "0");
  });
});

describe("bringMemoryOnline()", () => {
  let fake: FakeGuestSysfs;
  afterEach(() => fake.close());
  const bounds = (): OnlineOptions => ({ sysfs: fake.root, timeoutMs: 300, pollMs: 10 });

  it("onlines every block reading 0, leaving the others", async () => {
    fake = new FakeGuestSysfs({ present: 1, online: [0] });
    fake.memory({ 0: true, 1: true, 33: false, 34: false });
    assert.deepEqual(await bringMemoryOnline(bounds()), ["memory33", "memory34"]);
    for (const block of ["memory0", "memory1", "memory33", "memory34"]) assert.equal(fake.state(block), "1");
    assert.deepEqual(await bringMemoryOnline(bounds()), []);
  });

  it("has nothing to do in a guest without memory blocks", async () => {
    fake = new FakeGuestSysfs({ present: 1, online: [0] });
    assert.deepEqual(await bringMemoryOnline(bounds()), []);
  });
});

describe("addedMemoryBlock() / onlineMemoryBlock()", () => {
  it("takes a memory block's add event, and no other", () => {
    const add = (devpath: string, subsystem = "memory", action = "add") => ({ action, subsystem, devpath });
    assert.equal(addedMemoryBlock(add("/devices/system/memory/memory33")), "memory33");
    assert.equal(addedMemoryBlock(add("/devices/system/memory/memory33", "memory", "remove")), undefined);
    assert.equal(addedMemoryBlock(add("/devices/system/memory/memory33", "cpu")), undefined);
    assert.equal(addedMemoryBlock(add("/devices/system/cpu/cpu1", "cpu")), undefined);
    assert.equal(addedMemoryBlock(add("/devices/system/memory/memory33/../../cpu")), undefined);
    assert.equal(addedMemoryBlock(add("/devices/system/memory/probe")), undefined);
  });

  it("onlines a block reading 0, and leaves one online or gone", async () => {
    const fake = new FakeGuestSysfs({ present: 1, online: [0] });
    try {
      fake.memory({ 32: true, 33: false });
      assert.equal(await onlineMemoryBlock(fake.root, "memory33"), true);
      assert.equal(fake.state("memory33"), "1");
      assert.equal(await onlineMemoryBlock(fake.root, "memory33"), false);
      assert.equal(await onlineMemoryBlock(fake.root, "memory32"), false);
      assert.equal(await onlineMemoryBlock(fake.root, "memory99"), false);
    } finally {
      fake.close();
    }
  });
});
