import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import { capturingLog } from "../log.test-util.js";
import { OOM_QUEUE_CAPACITY, OomEvents } from "./oom-events.js";

/** Whether `p` is still unsettled once everything already due has run. */
async function pending(p: Promise<unknown>): Promise<boolean> {
  const marker = Symbol("pending");
  const result = await Promise.race([
    p.catch((e: unknown) => e),
    new Promise((r) => setImmediate(r, marker)),
  ]);
  return result === marker;
}

const destroyed = new AgentError(Code.NOT_FOUND, "sandbox s was destroyed");

describe("OomEvents", () => {
  it("hands a queued event to the next poll, in order", async () => {
    const events = new OomEvents(capturingLog().log);
    events.push("a");
    events.push("b");
    assert.equal(await events.next(), "a");
    assert.equal(await events.next(), "b");
    assert.ok(await pending(events.next()));
  });

  it("gives each event to one waiting poll, the longest waiting first; the others keep waiting", async () => {
    const events = new OomEvents(capturingLog().log);
    const polls = [events.next(), events.next(), events.next(), events.next()];
    events.push("oom");
    assert.equal(await polls[0], "oom");
    for (const p of polls.slice(1)) assert.ok(await pending(p));
    events.push("second");
    assert.equal(await polls[1], "second");
    assert.ok(await pending(polls[2] as Promise<string>));
  });

  it("takes a cancelled poll out of line before the next event, which goes to a later poll", async () => {
    const events = new OomEvents(capturingLog().log);
    const abort = new AbortController();
    const cancelled = events.next(abort.signal);
    const later = events.next();
    abort.abort(new AgentError(Code.DEADLINE_EXCEEDED, "deadline exceeded"));
    await assert.rejects(cancelled, { code: Code.DEADLINE_EXCEEDED });
    events.push("kept");
    assert.equal(await later, "kept");
  });

  it("keeps the event for the next poll when the only poll was cancelled", async () => {
    const events = new OomEvents(capturingLog().log);
    const abort = new AbortController();
    const cancelled = events.next(abort.signal);
    abort.abort();
    await assert.rejects(cancelled, { code: Code.CANCELLED });
    events.push("kept");
    assert.equal(await events.next(), "kept");
    await assert.rejects(events.next(AbortSignal.abort()), { code: Code.CANCELLED });
  });

  it("drops the oldest event when full, logs it, and never blocks the watch", async () => {
    const { log, lines } = capturingLog<{ dropped?: unknown }>();
    const events = new OomEvents(log, 3);
    for (const id of ["1", "2", "3", "4", "5"]) events.push(id);
    assert.deepEqual(
      lines.map((l) => l.dropped),
      ["1", "2"],
    );
    assert.match(lines[0]?.msg ?? "", /queue full/);
    assert.deepEqual([await events.next(), await events.next(), await events.next()], ["3", "4", "5"]);
    assert.equal(OOM_QUEUE_CAPACITY, 100);
  });

  it("ends waiting and later polls with the close error; events after close are dropped", async () => {
    const { log, lines } = capturingLog();
    const events = new OomEvents(log);
    const polls = [events.next(), events.next()];
    events.close(destroyed);
    for (const p of polls) await assert.rejects(p, destroyed);
    await assert.rejects(events.next(), destroyed);
    events.push("late");
    await assert.rejects(events.next(), destroyed);
    assert.match(lines.at(-1)?.msg ?? "", /after the sandbox was destroyed/);
  });

  it("logs the events nobody polled when it is closed", () => {
    const { log, lines } = capturingLog<{ dropped?: unknown }>();
    const events = new OomEvents(log);
    events.push("unread");
    events.close(destroyed);
    assert.deepEqual(lines.at(-1)?.dropped, ["unread"]);
  });
});
