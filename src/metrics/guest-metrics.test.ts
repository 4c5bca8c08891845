import assert from "node:assert/strict";
import type { StatsFs } from "node:fs";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { AgentError, Code } from "../errors.js";
import { createLogger } from "../log.js";
import { GuestMetrics, type GuestMetricsDeps } from "./guest-metrics.js";

const RECORDED = fileURLToPath(new URL("../../../src/metrics/testdata/proc", import.meta.url));

const ROOT_FS: StatsFs = {
  type: 0xef53,
  bsize: 4096,
  blocks: 66_053_021,
  bfree: 59_729_451,
  bavail: 20_274_103,
  files: 16_777_216,
  ffree: 16_323_580,
};

const FAMILIES = [
  ["kata_agent_io_stat", "Agent process IO statistics.", 7],
  ["kata_agent_proc_stat", "Agent process statistics.", 4],
  ["kata_agent_proc_status", "Agent process status.", 18],
  ["kata_agent_scrape_count", "Metrics scrape count", 1],
  ["kata_agent_threads", "Agent process threads", 1],
  ["kata_agent_total_rss", "Agent process total RSS size", 1],
  ["kata_agent_total_time", "Agent process total time", 1],
  ["kata_agent_total_vm", "Agent process total VM size", 1],
  ["kata_guest_cpu_time", "Guest CPU statistics.", 30],
  ["kata_guest_diskstat", "Disks statistics in system.", 170],
  ["kata_guest_filesystem_bytes", "Guest filesystem space usage in bytes.", 3],
  ["kata_guest_filesystem_inodes", "Guest filesystem inode usage.", 3],
  ["kata_guest_load", "Guest system load.", 3],
  ["kata_guest_meminfo", "Statistics about memory usage in the system.", 58],
  ["kata_guest_netdev_stat", "Guest net devices statistics.", 64],
  ["kata_guest_tasks", "Guest system load.", 2],
  ["kata_guest_vm_stat", "Guest virtual memory statistics.", 192],
] as const;

/** The families of a text: name, HELP, TYPE and sample lines, checking each block's shape. */
function familiesOf(text: string) {
  assert.ok(text.endsWith("\n"));
  return text
    .trimEnd()
    .split("\n\n")
    .map((block) => {
      const [help = "", type = "", ...samples] = block.split("\n");
      const [, name = "", helpText] = /^# HELP (\w+) (.*)$/.exec(help) ?? [];
      assert.match(type, new RegExp(`^# TYPE ${name} (gauge|counter)$`));
      for (const line of samples) assert.match(line, new RegExp(`^${name}(\\{.*\\})? -?\\d+(\\.\\d+)?$`));
      return { name, help: helpText, type: type.split(" ")[3], samples };
    });
}

describe("GuestMetrics", () => {
  const dirs: string[] = [];
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /** A procfs root holding the recorded files, with some replaced or removed. */
  function procTree(changes: Record<string, string | undefined> = {}): string {
    const root = mkdtempSync(join(tmpdir(), "berth-metrics-"));
    dirs.push(root);
    cpSync(RECORDED, root, { recursive: true });
    for (const [file, text] of Object.entries(changes)) {
      rmSync(join(root, file), { force: true });
      if (text !== undefined) writeFileSync(join(root, file), text);
    }
    return root;
  }

  function metrics(procfs: string, deps: Partial<GuestMetricsDeps> = {}) {
    const lines: { level: string; msg: string; source?: string; mount?: string }[] = [];
    const log = createLogger({
      level: "debug",
      destination: { write: (line: string) => lines.push(JSON.parse(line)) },
    });
    const statfs = async (path: string) => {
      if (path === "/") return ROOT_FS;
      throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
    };
    return { metrics: new GuestMetrics({ procfs, log, statfs, ...deps }), lines };
  }

  it("renders Kata's families of a recorded procfs tree, sorted by name, with Kata's HELP texts", async () => {
    const text = await metrics(procTree()).metrics.scrape();
    const families = familiesOf(text);
    assert.deepEqual(
      families.map((f) => [f.name, f.help, f.samples.length]),
      FAMILIES.map((f) => [...f]),
    );
    assert.deepEqual(
      families.filter((f) => f.type === "counter").map((f) => f.name),
      ["kata_agent_scrape_count"],
    );
    for (const line of [
      "kata_agent_scrape_count 1",
      "kata_agent_threads 7",
      "kata_agent_total_time 0.07",
      "kata_agent_total_vm 745717760",
      `kata_agent_total_rss ${40664 * 1024}`,
      'kata_agent_proc_stat{item="utime"} 4',
      'kata_agent_proc_status{item="vmrss"} 40664',
      'kata_agent_io_stat{item="write_bytes"} 16384',
      'kata_guest_load{item="load5"} 2.9',
      'kata_guest_tasks{item="max"} 173',
      'kata_guest_cpu_time{cpu="total",item="user"} 405350',
      'kata_guest_cpu_time{cpu="1",item="guest_nice"} 0',
      'kata_guest_vm_stat{item="nr_free_pages"} 3404108',
      'kata_guest_diskstat{disk="vda",item="reads"} 417192',
      'kata_guest_netdev_stat{interface="eth0",item="recv_bytes"} 571695025',
      `kata_guest_meminfo{item="mem_total"} ${24683584 * 1024}`,
      'kata_guest_meminfo{item="hugepages_total"} 0',
      `kata_guest_filesystem_bytes{mount="/",device="vda",item="total"} ${66_053_021 * 4096}`,
      `kata_guest_filesystem_bytes{mount="/",device="vda",item="available"} ${20_274_103 * 4096}`,
      'kata_guest_filesystem_inodes{mount="/",device="vda",item="used"} 453636',
    ]) {
      assert.ok(text.includes(`\n${line}\n`), `missing ${line}`);
    }
  });

  it("counts scrapes", async () => {
    const { metrics: m } = metrics(procTree());
    await m.scrape();
    assert.match(await m.scrape(), /\nkata_agent_scrape_count 2\n/);
  });

  it("prints counters past 2^53 and 2^64-byte filesystems without exponents", async () => {
    const netDev = [
      "Inter-|   Receive",
      " face |bytes    packets",
      `  eth0:18446744073709551615 1 0 0 0 0 0 0 9007199254740993 1 0 0 0 0 0 0`,
    ].join("\n");
    const huge = { ...ROOT_FS, blocks: 2 ** 52, bfree: 2 ** 51, bavail: 2 ** 51 };
    const text = await metrics(procTree({ "net/dev": netDev }), {
      statfs: async () => huge,
    }).metrics.scrape();
    assert.ok(
      text.includes('kata_guest_netdev_stat{interface="eth0",item="recv_bytes"} 18446744073709552000\n'),
    );
    assert.ok(text.includes('kata_guest_netdev_stat{interface="eth0",item="sent_bytes"} 9007199254740992\n'));
    assert.ok(
      text.includes(
        'kata_guest_filesystem_bytes{mount="/",device="vda",item="total"} 18446744073709552000\n',
      ),
    );
    assert.doesNotMatch(text, /\de[+-]?\d/);
  });

  it("escapes a mount point's backslash, quote and newline in its label", async () => {
    const mountinfo = '30 1 254:9 / /mnt/a"b\\134c\\012d rw - ext4 /dev/vdz rw\n';
    const { metrics: m } = metrics(procTree({ "self/mountinfo": mountinfo }), {
      statfs: async () => ROOT_FS,
    });
    const text = await m.scrape();
    assert.ok(
      text.includes('kata_guest_filesystem_inodes{mount="/mnt/a\\"b\\\\c\\nd",device="vdz",item="total"} '),
    );
  });

  it("leaves out the families of a file it cannot read or parse, logging each once at debug", async () => {
    const procfs = procTree({ diskstats: undefined, loadavg: "not a load\n", "self/io": undefined });
    mkdirSync(join(procfs, "self/io"));
    const { metrics: m, lines } = metrics(procfs);
    await m.scrape();
    const names = familiesOf(await m.scrape()).map((f) => f.name);
    for (const gone of ["kata_guest_diskstat", "kata_guest_load", "kata_guest_tasks", "kata_agent_io_stat"]) {
      assert.ok(!names.includes(gone), `${gone} is still there`);
    }
    assert.equal(names.length, FAMILIES.length - 4);
    assert.deepEqual(lines.map((l) => [l.level, l.source]).sort(), [
      ["debug", "diskstats"],
      ["debug", "loadavg"],
      ["debug", "self/io"],
    ]);
  });

  it("logs a source's failure again once it has read in between", async () => {
    const procfs = procTree();
    const { metrics: m, lines } = metrics(procfs);
    rmSync(join(procfs, "vmstat"));
    await m.scrape();
    cpSync(join(RECORDED, "vmstat"), join(procfs, "vmstat"));
    await m.scrape();
    rmSync(join(procfs, "vmstat"));
    await m.scrape();
    assert.equal(lines.filter((l) => l.source === "vmstat").length, 2);
  });

  it("fails with INTERNAL, never NOT_FOUND (the shim would stop asking), when procfs has nothing", async () => {
    const empty = mkdtempSync(join(tmpdir(), "berth-metrics-empty-"));
    dirs.push(empty);
    await assert.rejects(
      metrics(empty).metrics.scrape(),
      (error: unknown) =>
        error instanceof AgentError && error.code === Code.INTERNAL && /under/.test(error.message),
    );
  });

  it("leaves out a filesystem whose statfs hangs, waits for it only once, and warns once", async () => {
    let calls = 0;
    const statfs = (path: string) => {
      calls++;
      return path === "/" ? new Promise<StatsFs>(() => {}) : Promise.resolve(ROOT_FS);
    };
    const { metrics: m, lines } = metrics(procTree(), { statfs, statfsBoundMs: 20 });
    const started = Date.now();
    const first = await m.scrape();
    assert.ok(Date.now() - started < 1000);
    assert.ok(!first.includes("kata_guest_filesystem_bytes"));
    const second = await m.scrape();
    assert.ok(!second.includes("kata_guest_filesystem_bytes"));
    assert.equal(calls, 1);
    assert.deepEqual(
      lines.filter((l) => l.mount === "/").map((l) => l.level),
      ["warn"],
    );
  });
});
