import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import { formatCpuList, MAX_CPUS, onlineCpus, parseCpuList } from "./cpus.js";

describe("onlineCpus()", () => {
  it("reads <sysfs>/devices/system/cpu/online without its newline", async () => {
    const sysfs = await mkdtemp(join(tmpdir(), "berth-cpus-"));
    try {
      await mkdir(join(sysfs, "devices/system/cpu"), { recursive: true });
      await writeFile(join(sysfs, "devices/system/cpu/online"), "0-3,5\n");
      assert.equal(await onlineCpus(sysfs), "0-3,5");
    } finally {
      await rm(sysfs, { recursive: true, force: true });
    }
  });

  it("reads the real guest's list", async () => {
    assert.match(await onlineCpus(), /^\d+(-\d+)?(,\d+(-\d+)?)*$/);
  });

  it("fails NOT_FOUND naming the file when sysfs has none", async () => {
    await assert.rejects(
      onlineCpus("/nonexistent-sysfs"),
      (e) =>
        e instanceof AgentError &&
        e.code === Code.NOT_FOUND &&
        e.message.startsWith("cannot read the online CPUs from /nonexistent-sysfs/devices/system/cpu/online"),
    );
  });
});

const invalidArgument = (message: RegExp) => (e: unknown) =>
  e instanceof AgentError && e.code === Code.INVALID_ARGUMENT && message.test(e.message);

describe("parseCpuList() / formatCpuList()", () => {
  for (const [text, cpus] of [
    ["", []],
    [" \n", []],
    ["0", [0]],
    ["0-3,5\n", [0, 1, 2, 3, 5]],
    ["5,0-1,1-2,007", [0, 1, 2, 5, 7]],
    ["3-3", [3]],
    [`${MAX_CPUS - 2}-${MAX_CPUS - 1}`, [MAX_CPUS - 2, MAX_CPUS - 1]],
  ] satisfies [string, number[]][]) {
    it(`parses ${JSON.stringify(text)}`, () => {
      assert.deepEqual(parseCpuList(text), cpus);
    });
  }

  for (const [text, why] of [
    ["a", /"a" is not a CPU number/],
    ["1,,2", /"" is not a CPU number/],
    ["1-", /"1-" is not a CPU number/],
    ["-1", /"-1" is not a CPU number/],
    ["0-3:2/4", /"0-3:2\/4" is not a CPU number/],
    ["1 ,2", /"1 " is not a CPU number/],
    ["4-2", /range 4-2 runs backwards/],
    [`${MAX_CPUS}`, /CPU 8192 is beyond the 8192-CPU limit/],
    ["0-99999", /CPU 99999 is beyond/],
    ["123456", /"123456" is not a CPU number/],
    ["0,".repeat(40000), /longer than 65536 characters/],
  ] satisfies [string, RegExp][]) {
    it(`rejects ${JSON.stringify(text.slice(0, 20))}`, () => {
      assert.throws(
        () => parseCpuList(text),
        invalidArgument(new RegExp(`^invalid CPU list .*${why.source}`)),
      );
    });
  }

  for (const [cpus, text] of [
    [[], ""],
    [[4], "4"],
    [[0, 1], "0-1"],
    [[0, 1, 2, 3, 5], "0-3,5"],
    [[9, 1, 3, 2, 2, 7, 8], "1-3,7-9"],
    [[0, 2, 4], "0,2,4"],
  ] satisfies [number[], string][]) {
    it(`formats ${JSON.stringify(cpus)} as ${JSON.stringify(text)}`, () => {
      assert.equal(formatCpuList(cpus), text);
    });
  }

  it("round-trips", () => {
    for (const text of ["0-3,5", "0", "1-3,7-9,4095", "0,2,4-6"])
      assert.equal(formatCpuList(parseCpuList(text)), text);
  });
});
