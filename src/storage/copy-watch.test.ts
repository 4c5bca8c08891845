import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { AgentError, Code } from "../errors.js";
import { capturingLog } from "../log.test-util.js";
import { CopyWatch } from "./copy-watch.js";
import type { ScanOutcome } from "./watched-copy.js";

const fine: ScanOutcome = { kind: "copied", changed: 0, deferred: 0, failures: [] };

/** A WatchedCopy stand-in whose scans take `ms` and answer what `next` gives, counting how many overlap. */
function fakeCopy(ms: number, next: (n: number) => ScanOutcome | Error = () => fine) {
  const seen = { scans: 0, running: 0, mostAtOnce: 0, removed: 0, signals: [] as AbortSignal[] };
  const copy = {
    async scan(signal?: AbortSignal): Promise<ScanOutcome> {
      seen.scans += 1;
      seen.running += 1;
      seen.mostAtOnce = Math.max(seen.mostAtOnce, seen.running);
      if (signal) seen.signals.push(signal);
      try {
        await sleep(ms);
        const outcome = next(seen.scans);
        if (outcome instanceof Error) throw outcome;
        return outcome;
      } finally {
        seen.running -= 1;
      }
    },
    async remove() {
      seen.removed += 1;
    },
  };
  return { copy, seen };
}

const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

describe("CopyWatch", () => {
  it("never overlaps scans, even with an interval far shorter than a scan", async () => {
    const { copy, seen } = fakeCopy(30);
    const { log } = capturingLog();
    const watch = new CopyWatch({ copy, intervalMs: 1, bindSource: async () => {}, log });
    watch.start();
    await sleep(250);
    await watch.close();
    assert.equal(seen.mostAtOnce, 1);
    assert.ok(seen.scans >= 3, `only ${seen.scans} scans`);
    assert.equal(seen.removed, 1);
  });

  it("logs a run of failures once, goes on scanning, and says when scans work again", async () => {
    const { copy, seen } = fakeCopy(1, (n) =>
      n <= 3 ? new AgentError(Code.NOT_FOUND, "source gone") : fine,
    );
    const { log, lines } = capturingLog();
    const watch = new CopyWatch({ copy, intervalMs: 5, bindSource: async () => {}, log });
    watch.start();
    while (seen.scans < 5) await sleep(5);
    await watch.close();
    assert.deepEqual(
      lines.map((l) => l.msg),
      ["watchable storage scan failed; trying again each interval", "watchable storage scans work again"],
    );
  });

  it("binds the source once it is too big, scans no more, and unmounts before removing the copy", async () => {
    const order: string[] = [];
    const { copy, seen } = fakeCopy(1, (n) => (n >= 2 ? { kind: "too-big", reason: "17 entries" } : fine));
    const { log } = capturingLog();
    const watch = new CopyWatch({
      copy: {
        scan: (signal) => copy.scan(signal),
        remove: async () => {
          order.push("remove copy");
        },
      },
      intervalMs: 5,
      bindSource: async (undo) => {
        order.push("bind");
        undo.push("unmount", () => order.push("unmount"));
      },
      log,
    });
    watch.start();
    while (!watch.bound) await sleep(5);
    await sleep(50);
    assert.equal(seen.scans, 2, "no scan after the bind");
    await watch.close();
    assert.deepEqual(order, ["bind", "unmount", "remove copy"]);
  });

  it("keeps the copy when the bind mount cannot be undone (removing it would remove the source)", async () => {
    const { copy, seen } = fakeCopy(1);
    const { log } = capturingLog();
    const watch = new CopyWatch({
      copy,
      intervalMs: 5,
      bindSource: async (undo) => {
        undo.push("unmount", () => {
          throw new Error("EBUSY");
        });
      },
      log,
    });
    await watch.bindInstead("too big");
    await assert.rejects(watch.close(), /unmount: EBUSY/);
    assert.equal(seen.removed, 0);
  });

  it("close() aborts the running scan, waits for it, and leaves no timer behind", async () => {
    const before = timers();
    const { copy, seen } = fakeCopy(40);
    const { log } = capturingLog();
    const watch = new CopyWatch({ copy, intervalMs: 1, bindSource: async () => {}, log });
    watch.start();
    assert.equal(timers(), before + 1);
    while (seen.running === 0) await sleep(1);
    await watch.close();
    assert.equal(seen.running, 0, "the scan had finished when close() returned");
    assert.ok(seen.signals.every((s) => s.aborted));
    assert.equal(timers(), before);
    const scans = seen.scans;
    await sleep(30);
    assert.equal(seen.scans, scans, "no scan after close()");
  });
});
