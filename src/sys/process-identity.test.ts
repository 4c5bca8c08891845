import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isRunning, parseProcStat, readProcess } from "./process-identity.js";

describe("process identity", () => {
  it("reads the name and start time from a stat line, the name holding spaces and parentheses", () => {
    const rest = "S 1 1 1 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10";
    assert.deepEqual(parseProcStat(`42 (a (b) c) ${rest}`), { comm: "a (b) c", startTime: "98765" });
  });

  it("counts a zombie, a dead process and a torn line as no process", () => {
    const rest = "1 1 1 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10";
    assert.equal(parseProcStat(`42 (x) Z ${rest}`), undefined);
    assert.equal(parseProcStat(`42 (x) X ${rest}`), undefined);
    assert.equal(parseProcStat("42 (x) S 1 1"), undefined);
    assert.equal(parseProcStat("garbage"), undefined);
  });

  it("tells this process apart from one with its pid and another start time", async () => {
    const self = await readProcess(process.pid);
    assert.ok(self);
    assert.equal(await isRunning({ pid: process.pid, startTime: self.startTime }), true);
    assert.equal(await isRunning({ pid: process.pid, startTime: `${self.startTime}1` }), false);
    assert.equal(await isRunning({ pid: 2 ** 22 + 1, startTime: self.startTime }), false);
  });
});
