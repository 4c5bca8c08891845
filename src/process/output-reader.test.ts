import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { closeSync, writeSync } from "node:fs";
import { after, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { ByteBudget } from "../sys/byte-budget.js";
import { native } from "../sys/native.js";
import { DRAIN_AFTER_EXIT_MS, OutputReader } from "./output-reader.js";

/** A pipe whose read end (non-blocking) an OutputReader owns; the test holds the write end. */
function pipeReader(budget = new ByteBudget(1 << 20)) {
  const [r, w] = native().pipe();
  native().setNonBlocking(r);
  return { r, w, reader: new OutputReader(r, budget) };
}

const pending = Symbol("pending");
const settled = (p: Promise<unknown>, ms = 50) =>
  Promise.race([
    p.then(
      () => "settled",
      () => "settled",
    ),
    sleep(ms).then(() => pending),
  ]);

describe("OutputReader", () => {
  // Polls do not keep a process alive; in the agent, the connection of the call waiting on one does.
  const keepAlive = setInterval(() => {}, 1000);
  after(() => clearInterval(keepAlive));
  it("waits for output, returns what the kernel holds up to max, and EOF once the writer closes", async () => {
    const { r, w, reader } = pipeReader();
    try {
      const first = reader.read(4);
      assert.equal(await settled(first), pending, "nothing written yet");
      writeSync(w, "hello world");
      assert.equal((await first).toString(), "hell");
      assert.equal((await reader.read(100)).toString(), "o world");
      closeSync(w);
      assert.equal((await reader.read(100)).length, 0, "EOF");
      assert.equal((await reader.read(100)).length, 0, "EOF stays");
    } finally {
      reader.close();
      assert.throws(() => closeSync(r), { code: "EBADF" }, "close() closed the fd");
    }
  });

  it("after the process exited, a read that finds nothing ends in EOF once the drain window closes", async () => {
    // The test keeps the write end open, as a background child of the process would.
    const { w, reader } = pipeReader();
    try {
      writeSync(w, "last words");
      reader.processExited();
      await sleep(DRAIN_AFTER_EXIT_MS + 100);
      assert.equal((await reader.read(100)).toString(), "last words", "output outlives the window");
      const t0 = performance.now();
      assert.equal((await reader.read(100)).length, 0);
      assert.ok(performance.now() - t0 < 100, "past the window, no more waiting");
    } finally {
      reader.close();
      closeSync(w);
    }
  });

  it("ends pending reads with EOF when closed", async () => {
    const { w, reader } = pipeReader();
    const read = reader.read(10);
    await sleep(10);
    reader.close();
    assert.equal((await read).length, 0);
    closeSync(w);
  });

  it("review #15: 10,000 reads with deadlines on a silent process leave no waiter behind", async () => {
    const { w, reader } = pipeReader();
    try {
      const reads = Array.from({ length: 10_000 }, () => reader.read(1024, AbortSignal.timeout(100)));
      const settling = Promise.allSettled(reads);
      assert.equal(reader.waiting, 10_000);
      const outcomes = await settling;
      assert.ok(outcomes.every((o) => o.status === "rejected" && o.reason.name === "TimeoutError"));
      assert.equal(reader.waiting, 0, "every aborted read is gone from the waiters");
      writeSync(w, "still served");
      assert.equal((await reader.read(100)).toString(), "still served");
    } finally {
      reader.close();
      closeSync(w);
    }
  });

  it("review #7 (readflood): concurrent reads of a `yes` pipe never take more from it than the budget grants", async () => {
    const budget = new ByteBudget(4096);
    const { r, w, reader } = pipeReader(budget);
    const yes = spawn("yes", [], { stdio: ["ignore", w, "ignore"] });
    closeSync(w);
    try {
      while (native().readableBytes(r) < 65536) await sleep(5);
      const held = await budget.take(4096);
      const waiting = Array.from({ length: 20 }, () => reader.read(64 << 10));
      assert.equal(await settled(Promise.race(waiting), 100), pending, "no read while the budget is spent");
      assert.equal(native().readableBytes(r), 65536, "and nothing was taken from the pipe");
      held.release();
      const sizes: number[] = [];
      const reads = waiting.map((read) =>
        read.then((data) => {
          assert.ok(budget.used <= budget.limit, `${budget.used} bytes held`);
          sizes.push(data.length);
        }),
      );
      await Promise.all(reads);
      assert.ok(
        sizes.every((n) => n > 0 && n <= 4096),
        `each read at most the budget: ${sizes}`,
      );
    } finally {
      yes.kill();
      reader.close();
    }
  });

  it("gives each read's grant back once its reply has been handed on", async () => {
    const budget = new ByteBudget(100);
    const { w, reader } = pipeReader(budget);
    try {
      writeSync(w, "x".repeat(150));
      const data = await reader.read(1000);
      assert.equal(data.length, 100);
      assert.equal(budget.used, 100, "held while the reply is handed on");
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(budget.used, 0);
      assert.equal((await reader.read(1000)).length, 50);
    } finally {
      reader.close();
      closeSync(w);
    }
  });
});
