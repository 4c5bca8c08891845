import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import {
  ioItems,
  leadingNumber,
  parseColonFields,
  parseCpuTimes,
  parseDiskstats,
  parseLoadavg,
  parseProcessStat,
  statusItems,
  vmstatItems,
} from "./proc-files.js";

const fixture = (file: string) =>
  readFileSync(new URL(`../../../src/metrics/testdata/proc/${file}`, import.meta.url), "utf8");

describe("parseProcessStat()", () => {
  it("reads the ticks, threads and size of a recorded /proc/self/stat", () => {
    assert.deepEqual(parseProcessStat(fixture("self/stat")), {
      utime: 4,
      stime: 3,
      cutime: 0,
      cstime: 0,
      numThreads: 7,
      vsize: 745717760,
    });
  });

  it("counts fields from the last parenthesis: a command may hold spaces and parentheses", () => {
    const line =
      "42 (a) b (c) S 1 42 42 0 -1 4194304 1 0 0 0 17 5 2 1 20 0 3 0 99 123456 10 18446744073709551615";
    assert.deepEqual(parseProcessStat(line), {
      utime: 17,
      stime: 5,
      cutime: 2,
      cstime: 1,
      numThreads: 3,
      vsize: 123456,
    });
  });

  it("is undefined for text that is not a stat line", () => {
    assert.equal(parseProcessStat(""), undefined);
    assert.equal(parseProcessStat("42 (short) S 1 2 3"), undefined);
  });
});

describe("statusItems()", () => {
  it("gives Kata's 18 items of a recorded /proc/self/status, in kB as the file has them", () => {
    const items = statusItems(parseColonFields(fixture("self/status")));
    assert.equal(items.length, 18);
    assert.deepEqual(items.slice(0, 6), [
      ["vmpeak", 728456],
      ["vmsize", 728240],
      ["vmlck", 0],
      ["vmpin", 0],
      ["vmhwm", 40664],
      ["vmrss", 40664],
    ]);
    assert.deepEqual(items.slice(-3), [
      ["hugetlbpages", 0],
      ["voluntary_ctxt_switches", 3],
      ["nonvoluntary_ctxt_switches", 74],
    ]);
  });

  it("gives 0 for a field the kernel does not have", () => {
    const items = new Map(statusItems(parseColonFields("VmRSS:\t  100 kB\n")));
    assert.equal(items.get("vmrss"), 100);
    assert.equal(items.get("vmpin"), 0);
  });
});

describe("ioItems()", () => {
  it("reads a recorded /proc/self/io", () => {
    assert.deepEqual(ioItems(fixture("self/io")), [
      ["rchar", 251567],
      ["wchar", 1702],
      ["syscr", 89],
      ["syscw", 3],
      ["read_bytes", 0],
      ["write_bytes", 16384],
      ["cancelled_write_bytes", 0],
    ]);
  });
});

describe("parseLoadavg()", () => {
  it("reads the three loads and the tasks running and in all", () => {
    assert.deepEqual(parseLoadavg(fixture("loadavg")), {
      load: [
        ["load1", 2.41],
        ["load5", 2.9],
        ["load15", 1.85],
      ],
      tasks: [
        ["cur", 5],
        ["max", 173],
      ],
    });
  });

  it("is undefined for anything else", () => {
    assert.equal(parseLoadavg(""), undefined);
    assert.equal(parseLoadavg("0.1 0.2 0.3"), undefined);
  });
});

describe("parseCpuTimes()", () => {
  it("gives the total and each CPU of a recorded /proc/stat in ms, and nothing of its other lines", () => {
    const cpus = parseCpuTimes(fixture("stat"), 100);
    assert.deepEqual(
      cpus.map((c) => c.cpu),
      ["total", "0", "1"],
    );
    assert.deepEqual(cpus[0]?.times, [
      ["user", 405350],
      ["nice", 0],
      ["system", 937060],
      ["idle", 13083940],
      ["iowait", 81450],
      ["irq", 0],
      ["softirq", 8390],
      ["steal", 29840],
      ["guest", 0],
      ["guest_nice", 0],
    ]);
  });

  it("labels a CPU by its number, not its place (an offline CPU has no line), and an old kernel's missing columns are 0", () => {
    const cpus = parseCpuTimes("cpu  4 0 2 9\ncpu0 2 0 1 5\ncpu3 2 0 1 4\n", 100);
    assert.deepEqual(
      cpus.map((c) => c.cpu),
      ["total", "0", "3"],
    );
    assert.deepEqual(cpus[2]?.times.slice(2, 5), [
      ["system", 10],
      ["idle", 40],
      ["iowait", 0],
    ]);
  });
});

describe("vmstatItems()", () => {
  it("gives every key of a recorded /proc/vmstat with its value", () => {
    const items = vmstatItems(fixture("vmstat"));
    assert.equal(items.length, 192);
    assert.deepEqual(items[0], ["nr_free_pages", 3404108]);
    assert.deepEqual(items.at(-1), ["nr_unstable", 0]);
  });
});

describe("parseDiskstats()", () => {
  it("gives the 17 counters of each device of a recorded /proc/diskstats", () => {
    const disks = parseDiskstats(fixture("diskstats"));
    assert.deepEqual(
      disks.map((d) => d.disk),
      ["loop0", "loop1", "loop2", "loop3", "loop4", "loop5", "loop6", "loop7", "vda", "zram0"],
    );
    const vda = new Map(disks[8]?.items);
    assert.equal(vda.size, 17);
    assert.equal(vda.get("reads"), 417192);
    assert.equal(vda.get("sectors_read"), 374756690);
    assert.equal(vda.get("weighted_time_in_progress"), 3113187);
    assert.equal(vda.get("time_flushing"), 128);
  });

  it("reads an older kernel's 11 or 15 counters, the rest 0, and skips other lines", () => {
    const disks = parseDiskstats(
      "   8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n 8 1 sdb 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\nbad\n",
    );
    assert.equal(disks.length, 2);
    assert.deepEqual(disks[0]?.items.slice(10, 12), [
      ["weighted_time_in_progress", 11],
      ["discards", 0],
    ]);
    assert.deepEqual(disks[1]?.items.slice(14), [
      ["time_discarding", 15],
      ["flushes", 0],
      ["time_flushing", 0],
    ]);
  });
});

describe("leadingNumber()", () => {
  it("reads the number before a unit, 0 for none", () => {
    assert.equal(leadingNumber("34359738367 kB"), 34359738367);
    assert.equal(leadingNumber(""), 0);
    assert.equal(leadingNumber(undefined), 0);
  });
});
