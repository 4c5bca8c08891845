import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { KeyedLock } from "./keyed-lock.js";

describe("KeyedLock", () => {
  it("runs tasks for one key one after another, in arrival order", async () => {
    const lock = new KeyedLock();
    const events: string[] = [];
    const task = (name: string, ms: number) => async () => {
      events.push(`${name} start`);
      await sleep(ms);
      events.push(`${name} end`);
      return name;
    };
    const results = await Promise.all([
      lock.run("k", task("a", 20)),
      lock.run("k", task("b", 1)),
      lock.run("k", task("c", 1)),
    ]);
    assert.deepEqual(results, ["a", "b", "c"]);
    assert.deepEqual(events, ["a start", "a end", "b start", "b end", "c start", "c end"]);
    assert.equal(lock.busyKeys, 0);
  });

  it("lets different keys overlap", async () => {
    const lock = new KeyedLock();
    const events: string[] = [];
    const task = (name: string, ms: number) => async () => {
      events.push(`${name} start`);
      await sleep(ms);
      events.push(`${name} end`);
    };
    await Promise.all([lock.run("x", task("x", 20)), lock.run("y", task("y", 1))]);
    assert.deepEqual(events, ["x start", "y start", "y end", "x end"]);
  });

  it("keeps going after a task fails, passing the failure to its caller only", async () => {
    const lock = new KeyedLock();
    const failing = lock.run("k", async () => {
      throw new Error("boom");
    });
    const next = lock.run("k", async () => "after");
    await assert.rejects(failing, /boom/);
    assert.equal(await next, "after");
    assert.equal(lock.busyKeys, 0);
  });
});
