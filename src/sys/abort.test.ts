import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import { abortReason, forwardAbort, settlesWithin, throwIfAborted, untilAborted } from "./abort.js";

const code = (c: Code) => (e: unknown) => e instanceof AgentError && e.code === c;

describe("abortReason() and throwIfAborted()", () => {
  it("keep the code of a reason that has one, and call a bare abort CANCELLED", () => {
    assert.equal(abortReason(AbortSignal.abort(new AgentError(Code.DEADLINE_EXCEEDED, "late"))).code, 4);
    assert.equal(abortReason(AbortSignal.abort()).code, Code.CANCELLED);
    const ac = new AbortController();
    ac.abort(undefined);
    assert.equal(abortReason(ac.signal).code, Code.CANCELLED);
    assert.throws(
      () => throwIfAborted(AbortSignal.abort(new AgentError(Code.ABORTED, "x"))),
      code(Code.ABORTED),
    );
    throwIfAborted(undefined);
    throwIfAborted(new AbortController().signal);
  });
});

describe("untilAborted()", () => {
  it("settles as the promise does, and leaves no listener on the signal", async () => {
    const ac = new AbortController();
    assert.equal(await untilAborted(Promise.resolve(7), ac.signal), 7);
    await assert.rejects(untilAborted(Promise.reject(new Error("no")), ac.signal), /no/);
    assert.equal(getEventListeners(ac.signal, "abort").length, 0);
  });

  it("rejects with the abort's reason at once, even when the promise never settles", async () => {
    const ac = new AbortController();
    const waiting = untilAborted(new Promise(() => {}), ac.signal);
    ac.abort(new AgentError(Code.DEADLINE_EXCEEDED, "deadline"));
    await assert.rejects(waiting, code(Code.DEADLINE_EXCEEDED));
    assert.equal(getEventListeners(ac.signal, "abort").length, 0);
    await assert.rejects(untilAborted(Promise.resolve(1), ac.signal), code(Code.DEADLINE_EXCEEDED));
  });
});

describe("forwardAbort()", () => {
  it("aborts the target with the source's reason until unlinked", () => {
    const source = new AbortController();
    const target = new AbortController();
    const unlink = forwardAbort(source.signal, target);
    source.abort("why");
    assert.equal(target.signal.reason, "why");
    unlink();
    const later = new AbortController();
    forwardAbort(AbortSignal.abort("already"), later);
    assert.equal(later.signal.reason, "already");
    const kept = new AbortController();
    const src = new AbortController();
    forwardAbort(src.signal, kept)();
    src.abort();
    assert.equal(kept.signal.aborted, false);
  });
});

describe("settlesWithin()", () => {
  it("tells whether the promise settled in time", async () => {
    assert.equal(await settlesWithin(Promise.reject(new Error("x")), 50), true);
    assert.equal(await settlesWithin(new Promise(() => {}), 20), false);
  });

  it("answers false once the signal aborts, without waiting out the bound", async () => {
    const controller = new AbortController();
    const started = performance.now();
    const settled = settlesWithin(new Promise(() => {}), 60_000, controller.signal);
    setTimeout(() => controller.abort(), 10);
    assert.equal(await settled, false);
    assert.ok(performance.now() - started < 5_000);
  });
});
