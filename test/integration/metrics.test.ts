import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, statfsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { type AgentProcess, startAgent } from "../support/agent-process.js";
import { AgentRpc } from "../support/agent-rpc.js";
import { buildExpfmtParser } from "../support/interop-peers.js";

interface Family {
  type: string;
  help: string;
  samples: { labels: Record<string, string>; value: number }[];
}

const FAMILIES = [
  "kata_agent_io_stat",
  "kata_agent_proc_stat",
  "kata_agent_proc_status",
  "kata_agent_scrape_count",
  "kata_agent_threads",
  "kata_agent_total_rss",
  "kata_agent_total_time",
  "kata_agent_total_vm",
  "kata_guest_cpu_time",
  "kata_guest_diskstat",
  "kata_guest_filesystem_bytes",
  "kata_guest_filesystem_inodes",
  "kata_guest_load",
  "kata_guest_meminfo",
  "kata_guest_netdev_stat",
  "kata_guest_tasks",
  "kata_guest_vm_stat",
];

const MiB = 1 << 20;

const diskNames = () =>
  readFileSync("/proc/diskstats", "utf8")
    .trim()
    .split("\n")
    .map((line) => line.trim().split(/\s+/)[2] ?? "");

describe("GetMetrics through berth-agent, parsed by Prometheus' Go parser (expfmt, as Kata's shim)", () => {
  let parser: string;
  let agent: AgentProcess;
  let rpc: AgentRpc;

  before(async () => {
    parser = await buildExpfmtParser();
    agent = await startAgent({ netns: true });
    rpc = await AgentRpc.connect(agent.socketPath);
  });

  after(async () => {
    rpc?.close();
    await agent?.stop();
  });

  /** One scrape, as expfmt's TextParser reads it. */
  async function scrape(): Promise<Record<string, Family>> {
    const { metrics } = await rpc.call("getMetrics", {}, 10_000);
    const parsed = spawnSync(parser, [], { input: metrics, encoding: "utf8", timeout: 10_000 });
    assert.equal(parsed.status, 0, `expfmt rejected the text: ${parsed.stderr}\n${metrics.slice(0, 2000)}`);
    return JSON.parse(parsed.stdout) as Record<string, Family>;
  }

  const value = (families: Record<string, Family>, name: string, labels: Record<string, string> = {}) => {
    const sample = families[name]?.samples.find((s) =>
      Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );
    assert.ok(sample, `no ${name} ${JSON.stringify(labels)}`);
    return sample.value;
  };

  const items = (families: Record<string, Family>, name: string) =>
    new Set(families[name]?.samples.map((s) => s.labels.item));

  it("exports Kata's 17 families, the scrape count a counter and the rest gauges, and counts scrapes", async () => {
    const first = await scrape();
    assert.deepEqual(Object.keys(first).sort(), FAMILIES);
    for (const name of FAMILIES) {
      assert.equal(first[name]?.type, name === "kata_agent_scrape_count" ? "COUNTER" : "GAUGE", name);
    }
    assert.equal(first.kata_guest_tasks?.help, "Guest system load.");
    assert.equal(value(first, "kata_agent_scrape_count"), 1);
    assert.equal(value(await scrape(), "kata_agent_scrape_count"), 2);
  });

  it("reports the guest as /proc and statfs have it", async () => {
    const disksBefore = diskNames();
    const families = await scrape();
    const memTotalKiB = Number(/^MemTotal:\s+(\d+) kB$/m.exec(readFileSync("/proc/meminfo", "utf8"))?.[1]);
    assert.equal(value(families, "kata_guest_meminfo", { item: "mem_total" }), memTotalKiB * 1024);
    assert.equal(items(families, "kata_guest_meminfo").size, 58);

    const cpus = readFileSync("/proc/stat", "utf8").match(/^cpu\d+ /gm)?.length ?? 0;
    const labels = new Set(families.kata_guest_cpu_time?.samples.map((s) => s.labels.cpu));
    assert.equal(labels.size, cpus + 1);
    assert.ok(labels.has("total"));
    assert.equal(families.kata_guest_cpu_time?.samples.length, (cpus + 1) * 10);

    const vmstatKeys = readFileSync("/proc/vmstat", "utf8").trim().split("\n").length;
    assert.equal(families.kata_guest_vm_stat?.samples.length, vmstatKeys);
    const reported = new Set(families.kata_guest_diskstat?.samples.map((s) => s.labels.disk));
    assert.equal(families.kata_guest_diskstat?.samples.length, reported.size * 17);
    // Other tests may attach loop devices meanwhile: the disks that were there before and after.
    for (const disk of disksBefore.filter((d) => diskNames().includes(d)))
      assert.ok(reported.has(disk), disk);
    // The agent's own network namespace has only its loopback.
    assert.deepEqual(
      [...new Set(families.kata_guest_netdev_stat?.samples.map((s) => s.labels.interface))],
      ["lo"],
    );
    assert.ok(value(families, "kata_guest_tasks", { item: "max" }) >= 1);
    assert.ok(value(families, "kata_guest_load", { item: "load1" }) >= 0);

    const root = statfsSync("/");
    const rootTotal = value(families, "kata_guest_filesystem_bytes", { mount: "/", item: "total" });
    assert.equal(rootTotal, root.blocks * root.bsize);
    assert.equal(value(families, "kata_guest_filesystem_inodes", { mount: "/", item: "total" }), root.files);
  });

  it("reports the agent process as its /proc/<pid> has it", async () => {
    const families = await scrape();
    const threads = Number(
      /^Threads:\s+(\d+)$/m.exec(readFileSync(`/proc/${agent.pid}/status`, "utf8"))?.[1],
    );
    const reported = value(families, "kata_agent_threads");
    assert.ok(
      reported >= 4 && Math.abs(reported - threads) <= 2,
      `threads ${reported}, /proc says ${threads}`,
    );

    const rss = value(families, "kata_agent_total_rss");
    assert.ok(rss > 20 * MiB && rss < 400 * MiB, `rss ${rss}`);
    assert.ok(
      Math.abs(rss - agent.rssKiB() * 1024) < 16 * MiB,
      `rss ${rss}, /proc says ${agent.rssKiB()} KiB`,
    );
    assert.equal(value(families, "kata_agent_proc_status", { item: "vmrss" }) * 1024, rss);
    assert.ok(value(families, "kata_agent_total_vm") > rss);
    assert.equal(items(families, "kata_agent_proc_status").size, 18);
    assert.equal(items(families, "kata_agent_io_stat").size, 7);

    const ticks = ["utime", "stime"].map((item) => value(families, "kata_agent_proc_stat", { item }));
    const total = value(families, "kata_agent_total_time");
    assert.ok(total > 0);
    assert.equal(total, ((ticks[0] ?? 0) + (ticks[1] ?? 0)) / 100);
  });
});
