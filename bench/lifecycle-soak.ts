/**
 * npm run bench:soak — create/start/exec/remove cycles through berth (ttrpc on a unix socket), each
 * container with a tmpfs storage and an ext4 storage on a loop device, then what they left: the agent's
 * mounts, fds, descendant processes and zombies, cgroup directories, loop devices, runc containers, run-dir
 * entries and RSS, at the start (after a warm-up) and at the end, with RSS sampled every 100 cycles.
 * Exits 1 when anything but RSS differs (RSS growth over 10 MiB only warns: V8 grows its heap lazily).
 * Not part of the tests.
 *
 *   SOAK_CYCLES=1000 npm run bench:soak
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { containerSpec } from "../test/support/container-spec.js";
import { childrenOf, procStat, runcContainers } from "../test/support/leftovers.js";
import { echoCycle, fdCount, sleep, startBenchAgent } from "../test/support/process-helpers.js";
import { median, percentile } from "../test/support/stats.js";

const cycles = Number(process.env.SOAK_CYCLES ?? 1000);
const warmup = 5;
const T = 30_000;
const CONTAINER_ID = /^soak-c\d+$/;

/** The cgroup directories (v1 controllers and v2) of this soak's containers, wherever runc put them. */
function cgroupDirCount(): number {
  let n = 0;
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      if (CONTAINER_ID.test(e.name)) n++;
      walk(join(dir, e.name));
    }
  };
  walk("/sys/fs/cgroup");
  return n;
}

/** The agent's descendants (pids) and, among them, zombies. */
function descendants(pid: number): { all: number[]; zombies: number[] } {
  const all: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift() as number;
    for (const [child] of childrenOf(parent)) {
      all.push(child);
      queue.push(child);
    }
  }
  return { all, zombies: all.filter((p) => procStat(p)?.state === "Z") };
}

const loopDevices = () =>
  execFileSync("losetup", ["--list", "--noheadings", "--output", "NAME"], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean).length;

async function main() {
  const { dir, rootfs, agent, rpc, stop } = await startBenchAgent("soak");
  const image = join(dir, "disk.img");
  execFileSync("truncate", ["-s", "16M", image]);
  execFileSync("mkfs.ext4", ["-q", "-F", image]);
  const device = execFileSync("losetup", ["--find", "--show", image], { encoding: "utf8" }).trim();
  const runDir = join(agent.dir, "run");
  const runcRoot = join(agent.dir, "runc");
  let failed = false;
  try {
    await rpc.call("createSandbox", { sandboxId: "soak", hostname: "soak" }, T);
    const spec = containerSpec({ rootfs, args: ["sleep", "1000"] });
    const host = { rpc, spec: () => spec };
    const cycle = async (i: number) => {
      const id = `soak-c${i}`;
      await rpc.call(
        "createContainer",
        {
          containerId: id,
          OCI: spec,
          storages: [
            {
              driver: "ephemeral",
              source: "tmpfs",
              fstype: "tmpfs",
              mountPoint: join(runDir, "sandbox", "ephemeral", id),
              options: ["size=1m"],
            },
            { driver: "blk", source: device, fstype: "ext4", mountPoint: join(dir, "blk", id) },
          ],
        },
        T,
      );
      await rpc.call("startContainer", { containerId: id }, T);
      await echoCycle(host, id, i, T);
      await rpc.call("removeContainer", { containerId: id }, T);
    };
    const snapshot = () => {
      const procs = descendants(agent.pid);
      return {
        mounts: readFileSync(`/proc/${agent.pid}/mountinfo`, "utf8").split("\n").filter(Boolean).length,
        fds: fdCount(agent.pid),
        processes: procs.all.length,
        zombies: procs.zombies.length,
        cgroups: cgroupDirCount(),
        loops: loopDevices(),
        runc: runcContainers(runcRoot).length,
        runDir: existsSync(runDir) ? readdirSync(runDir).length : 0,
        rssMiB: agent.rssKiB() / 1024,
      };
    };

    for (let i = 0; i < warmup; i++) await cycle(i);
    await sleep(200);
    const before = snapshot();
    const times: number[] = [];
    const samples: number[] = [];
    const t0 = performance.now();
    for (let i = warmup; i < warmup + cycles; i++) {
      const t = performance.now();
      await cycle(i);
      times.push(performance.now() - t);
      if ((i - warmup + 1) % 100 === 0) samples.push(agent.rssKiB() / 1024);
    }
    const took = performance.now() - t0;
    await sleep(500); // asynchronous closes and reaps
    const after = snapshot();

    console.log(
      `lifecycle soak: ${cycles} cycles of create (tmpfs + ext4-on-loop storages) / start / exec echo / remove\n`,
    );
    console.log(
      `time           ${(took / 1000).toFixed(1)} s; per cycle median ${median(times).toFixed(1)} ms, p90 ${percentile(times, 0.9).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms`,
    );
    const keys = ["mounts", "fds", "processes", "zombies", "cgroups", "loops", "runc", "runDir"] as const;
    for (const key of keys) console.log(`${key.padEnd(14)} ${before[key]} → ${after[key]}`);
    console.log(
      `RSS            ${before.rssMiB.toFixed(1)} → ${after.rssMiB.toFixed(1)} MiB; every 100 cycles ${samples.map((x) => x.toFixed(0)).join(" ")}`,
    );
    console.log("");
    const verdicts = keys.map((key) => {
      const slack = key === "fds" ? 2 : 0;
      return [
        `${key} unchanged${slack ? ` (±${slack})` : ""}`,
        Math.abs(after[key] - before[key]) <= slack,
      ] as const;
    });
    for (const [what, ok] of verdicts) console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
    const growth = after.rssMiB - before.rssMiB;
    console.log(`${growth < 10 ? "ok  " : "WARN"} RSS growth < 10 MiB (${growth.toFixed(1)} MiB)`);
    failed = verdicts.some(([, ok]) => !ok);
    await rpc.call("destroySandbox", {}, T);
  } finally {
    await stop();
    execFileSync("losetup", ["-d", device]);
  }
  if (failed) process.exitCode = 1;
}

await main();
