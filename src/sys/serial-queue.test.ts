import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { AgentError, Code } from "../errors.js";
import { SerialQueue } from "./serial-queue.js";

describe("SerialQueue", () => {
  it("runs tasks one after another, in arrival order, also after one fails", async () => {
    const queue = new SerialQueue("tasks", 8);
    const events: string[] = [];
    const task =
      (name: string, ms: number, fail = false) =>
      async () => {
        events.push(`${name} start`);
        await sleep(ms);
        events.push(`${name} end`);
        if (fail) throw new Error(name);
        return name;
      };
    const results = await Promise.allSettled([
      queue.run(task("a", 20)),
      queue.run(task("b", 1, true)),
      queue.run(task("c", 1)),
    ]);
    assert.deepEqual(
      results.map((r) => (r.status === "fulfilled" ? r.value : "failed")),
      ["a", "failed", "c"],
    );
    assert.deepEqual(events, ["a start", "a end", "b start", "b end", "c start", "c end"]);
    assert.equal(queue.pending, 0);
  });

  it("refuses a task beyond its limit with RESOURCE_EXHAUSTED, naming what is queued", async () => {
    const queue = new SerialQueue("restores", 2);
    const first = queue.run(() => sleep(20));
    const second = queue.run(() => sleep(1));
    await assert.rejects(
      queue.run(() => sleep(1)),
      (e: unknown) =>
        e instanceof AgentError &&
        e.code === Code.RESOURCE_EXHAUSTED &&
        e.message === "2 restores are already running or waiting, the most there may be",
    );
    await Promise.all([first, second]);
    await queue.run(() => sleep(1));
  });

  it("drops a waiting task whose signal aborts, without running it or letting the next one overtake", async () => {
    const queue = new SerialQueue("tasks", 8);
    const events: string[] = [];
    const running = queue.run(async () => {
      await sleep(40);
      events.push("first end");
    });
    const ac = new AbortController();
    let ran = false;
    const aborted = queue.run(async () => {
      ran = true;
    }, ac.signal);
    const third = queue.run(async () => {
      events.push("third start");
    });
    ac.abort(new AgentError(Code.CANCELLED, "gone"));
    await assert.rejects(aborted, (e: unknown) => e instanceof AgentError && e.code === Code.CANCELLED);
    assert.equal(queue.pending, 2);
    await Promise.all([running, third]);
    assert.equal(ran, false);
    assert.deepEqual(events, ["first end", "third start"]);
  });
});
