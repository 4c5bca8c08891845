import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ByteBudget } from "./byte-budget.js";

describe("ByteBudget", () => {
  it("counts charges, even past the limit, and each release gives its bytes back once", () => {
    const budget = new ByteBudget(100);
    const a = budget.charge(60);
    const b = budget.charge(60);
    assert.equal(budget.used, 120);
    assert.equal(budget.available, 0);
    a();
    a();
    assert.equal(budget.used, 60);
    b();
    assert.equal(budget.available, 100);
  });

  it("grants what is available up to the maximum asked for", async () => {
    const budget = new ByteBudget(100);
    const held = budget.charge(70);
    const grant = await budget.take(50);
    assert.equal(grant.bytes, 30);
    assert.equal(budget.available, 0);
    grant.release();
    held();
    assert.equal((await budget.take(50)).bytes, 50);
  });

  it("makes a take wait until bytes are released", async () => {
    const budget = new ByteBudget(10);
    const held = budget.charge(10);
    let granted = 0;
    const waiting = budget.take(8).then((g) => {
      granted = g.bytes;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(granted, 0);
    held();
    await waiting;
    assert.equal(granted, 8);
  });

  it("ends a waiting take with the signal's reason and forgets it", async () => {
    const budget = new ByteBudget(10);
    const held = budget.charge(10);
    const controller = new AbortController();
    const waiting = budget.take(5, controller.signal);
    controller.abort(new Error("caller left"));
    await assert.rejects(waiting, /caller left/);
    held();
    assert.equal(budget.used, 0);
  });

  it("refuses a limit that is not a positive integer", () => {
    assert.throws(() => new ByteBudget(0), RangeError);
    assert.throws(() => new ByteBudget(1.5), RangeError);
  });

  it("grants at once what is available now, and nothing without waiting when none is", () => {
    const budget = new ByteBudget(10);
    const grant = budget.takeNow(6);
    assert.equal(grant?.bytes, 6);
    assert.equal(budget.takeNow(6)?.bytes, 4);
    assert.equal(budget.takeNow(1), undefined);
    grant?.release();
    assert.equal(budget.used, 4);
  });
});
