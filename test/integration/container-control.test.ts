import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { constants, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { controllerDir } from "../../src/cgroup/cgroup-dirs.js";
import { findCgroupDirs } from "../../src/cgroup/cgroup-fs.js";
import { LinuxBlockIOSchema, SpecSchema } from "../../src/protocol/gen/oci_pb.js";
import { Code } from "../../src/protocol/ttrpc/code.js";
import { onlineCpus } from "../../src/sys/cpus.js";
import { type Fixture, failsWith, sandboxFixture } from "../support/container-fixture.js";
import { procStat } from "../support/leftovers.js";
import {
  exec,
  inContainer,
  livePids,
  readOrEmpty,
  signal,
  sleep,
  stillPending,
  T,
  untilLive,
  waitFor,
} from "../support/process-helpers.js";

const TEST = { timeout: 60_000 };
const { SIGKILL, SIGTERM } = constants.signals;
const COUNTER = "i=0; while :; do i=$((i+1)); echo $i > /out/count.tmp; mv /out/count.tmp /out/count; done";

/** The pid of the container's init, from runc's state. */
function initPid(f: Fixture, id: string): number {
  const state = execFileSync("runc", ["--root", f.runcRoot, "state", id], { encoding: "utf8" });
  return (JSON.parse(state) as { pid: number }).pid;
}

/** The directory of process `pid`'s cgroup for `controller`, wherever the machine nests it. */
async function cgroupDir(pid: number, controller: string): Promise<string> {
  const found = controllerDir(await findCgroupDirs(pid), controller);
  assert.ok(found, `process ${pid} has a ${controller} cgroup`);
  return found.dir;
}

/** A file of the container's cgroup for `controller`. */
async function cgroupFile(pid: number, controller: string, file: string): Promise<string> {
  return readFileSync(join(await cgroupDir(pid, controller), file), "utf8").trim();
}

/** The first block device of the machine ("MAJ:MIN"), disks before loop devices. */
function blockDevice(): { major: bigint; minor: bigint } {
  const names = readdirSync("/sys/block").sort(
    (a, b) => Number(a.startsWith("loop")) - Number(b.startsWith("loop")),
  );
  const [major = "", minor = ""] = readFileSync(`/sys/block/${names[0]}/dev`, "utf8").trim().split(":");
  return { major: BigInt(major), minor: BigInt(minor) };
}

const pause = (f: Fixture, containerId: string) => f.rpc.call("pauseContainer", { containerId }, T);
const resume = (f: Fixture, containerId: string) => f.rpc.call("resumeContainer", { containerId }, T);

describe("PauseContainer, ResumeContainer, UpdateContainer and ListProcesses", () => {
  const f = sandboxFixture("control");

  it("pauses a busy loop (no progress, FROZEN) and resumes it (progress again, THAWED)", TEST, async () => {
    const count = () => Number(readOrEmpty(join(f.out, "count")));
    const untilCountPasses = async (n: number) => {
      const deadline = Date.now() + 10_000;
      while (count() <= n) {
        assert.ok(Date.now() < deadline, `the loop did not get past ${n}`);
        await sleep(10);
      }
    };
    await inContainer(
      f,
      "busy",
      async () => {
        const pid = initPid(f, "busy");
        await untilCountPasses(0);
        await pause(f, "busy");
        assert.equal(await cgroupFile(pid, "freezer", "freezer.state"), "FROZEN");
        const paused = count();
        await sleep(300);
        assert.equal(count(), paused, "no progress while paused");
        await resume(f, "busy");
        assert.equal(await cgroupFile(pid, "freezer", "freezer.state"), "THAWED");
        await untilCountPasses(paused);
      },
      ["sh", "-c", COUNTER],
    );
  });

  it(
    "refuses moves the state machine has not got with FAILED_PRECONDITION naming both states, and exec into a paused container; updates a created one",
    TEST,
    async () => {
      const id = "moves";
      await f.rpc.call("createContainer", { containerId: id, execId: id, OCI: f.spec(["sleep", "1000"]) }, T);
      try {
        await assert.rejects(
          pause(f, id),
          failsWith(Code.FAILED_PRECONDITION, /moves is created: it cannot become paused/),
        );
        await assert.rejects(
          resume(f, id),
          failsWith(Code.FAILED_PRECONDITION, /moves is created, not paused/),
        );
        await f.rpc.call("updateContainer", { containerId: id, resources: { Pids: { Limit: 50n } } }, T);
        assert.equal(
          await cgroupFile(initPid(f, id), "pids", "pids.max"),
          "50",
          "a created container is updated",
        );
        await f.rpc.call("startContainer", { containerId: id }, T);
        await assert.rejects(
          resume(f, id),
          failsWith(Code.FAILED_PRECONDITION, /moves is running, not paused/),
        );
        await pause(f, id);
        await assert.rejects(
          pause(f, id),
          failsWith(Code.FAILED_PRECONDITION, /moves is paused: it cannot become paused/),
        );
        await assert.rejects(
          exec(f, id, "in-paused", ["true"]),
          failsWith(Code.FAILED_PRECONDITION, /moves is paused: cannot exec/),
        );
        await resume(f, id);
        await exec(f, id, "after", ["true"]);
        assert.equal(await waitFor(f, id, "after"), 0);
        await signal(f, id, "", SIGKILL);
        assert.equal(await waitFor(f, id, ""), 137);
        await assert.rejects(
          pause(f, id),
          failsWith(Code.FAILED_PRECONDITION, /moves is stopped: it cannot become paused/),
        );
        await assert.rejects(
          resume(f, id),
          failsWith(Code.FAILED_PRECONDITION, /moves is stopped, not paused/),
        );
        await assert.rejects(
          f.rpc.call("updateContainer", { containerId: id, resources: { Pids: { Limit: 5n } } }, T),
          failsWith(Code.FAILED_PRECONDITION, /moves is stopped: its resources cannot be updated/),
        );
      } finally {
        await f.rpc.call("removeContainer", { containerId: id }, T);
      }
      f.assertNoContainerLeft([id]);
    },
  );

  it("answers NOT_FOUND for an unknown container", TEST, async () => {
    for (const call of [
      pause(f, "nope"),
      resume(f, "nope"),
      f.rpc.call("updateContainer", { containerId: "nope", resources: { Pids: { Limit: 5n } } }, T),
      f.rpc.call("listProcesses", { containerId: "nope", format: "json" }, T),
    ]) {
      await assert.rejects(call, failsWith(Code.NOT_FOUND, /"nope" not found/));
    }
  });

  it(
    "keeps a signal to one process of a paused container until it resumes, but a SIGKILL to the init kills it at once",
    TEST,
    async () => {
      await inContainer(f, "held", async () => {
        await exec(f, "held", "sl", ["sleep", "1000"]);
        await untilLive("held", 2);
        await pause(f, "held");
        await signal(f, "held", "sl", SIGTERM);
        const waitExec = waitFor(f, "held", "sl");
        const waitInit = waitFor(f, "held", "");
        assert.ok(await stillPending(waitExec, 300), "the exec is frozen, its SIGTERM pending");
        await resume(f, "held");
        assert.equal(await waitExec, 128 + SIGTERM);

        await pause(f, "held");
        assert.ok(await stillPending(waitInit, 0), "a paused init waits");
        await signal(f, "held", "", SIGKILL);
        assert.equal(await waitInit, 137);
      });
      await inContainer(f, "killinit", async () => {
        await pause(f, "killinit");
        await signal(f, "killinit", "killinit", SIGKILL);
        assert.equal(await waitFor(f, "killinit", "killinit"), 137);
      });
    },
  );

  it(
    "removes a paused container with its execs, leaving no process, cgroup, mount or runc state",
    TEST,
    async () => {
      let pids: number[] = [];
      let memory = "";
      await inContainer(
        f,
        "frozen",
        async () => {
          await exec(f, "frozen", "sl", ["sleep", "1000"]);
          await untilLive("frozen", 2);
          pids = livePids("frozen");
          memory = await cgroupDir(initPid(f, "frozen"), "memory");
          await pause(f, "frozen");
          assert.equal(await cgroupFile(pids[0] ?? 0, "freezer", "freezer.state"), "FROZEN");
        },
        ["sh", "-c", "while :; do :; done"],
      );
      assert.equal(pids.length, 2);
      for (const pid of pids) assert.equal(procStat(pid), undefined, `process ${pid} is gone`);
      assert.ok(!existsSync(memory), `${memory} is gone`);
    },
  );

  it(
    "updates memory, CPU, pids and block-IO limits, visible in the cgroup files, running or paused",
    TEST,
    async () => {
      const dev = blockDevice();
      const throttle = (rate: bigint) => [{ Major: dev.major, Minor: dev.minor, Rate: rate }];
      const spec = create(SpecSchema, f.spec(["sleep", "1000"]));
      // A throttle from the spec, which every runc update writes again.
      const resources = spec.Linux?.Resources;
      assert.ok(resources);
      resources.BlockIO = create(LinuxBlockIOSchema, { ThrottleReadBpsDevice: throttle(10_000_000n) });
      await f.rpc.call("createContainer", { containerId: "limits", execId: "limits", OCI: spec }, T);
      try {
        await f.rpc.call("startContainer", { containerId: "limits" }, T);
        const pid = initPid(f, "limits");
        const file = (controller: string, name: string) => cgroupFile(pid, controller, name);
        const update = (resources: object) =>
          f.rpc.call("updateContainer", { containerId: "limits", resources }, T);
        const online = await onlineCpus();

        await update({
          Memory: { Limit: 64n << 20n, Reservation: 32n << 20n, Swap: 128n << 20n },
          CPU: { Shares: 512n, Quota: 50_000n, Period: 100_000n, Cpus: "0" },
          Pids: { Limit: 42n },
          BlockIO: {
            Weight: 300,
            ThrottleReadBpsDevice: throttle(20_000_000n),
            ThrottleWriteIOPSDevice: throttle(1000n),
          },
        });
        assert.equal(await file("memory", "memory.limit_in_bytes"), String(64 << 20));
        assert.equal(await file("memory", "memory.soft_limit_in_bytes"), String(32 << 20));
        const swapAccounted = existsSync(join(await cgroupDir(pid, "memory"), "memory.memsw.limit_in_bytes"));
        if (swapAccounted) {
          assert.equal(await file("memory", "memory.memsw.limit_in_bytes"), String(128 << 20));
        }
        assert.equal(await file("cpu", "cpu.shares"), "512");
        assert.equal(await file("cpu", "cpu.cfs_quota_us"), "50000");
        assert.equal(await file("cpu", "cpu.cfs_period_us"), "100000");
        assert.equal(await file("pids", "pids.max"), "42");
        assert.equal(await file("cpuset", "cpuset.cpus"), "0");
        const device = `${dev.major}:${dev.minor}`;
        assert.equal(await file("blkio", "blkio.throttle.read_bps_device"), `${device} 20000000`);
        assert.equal(await file("blkio", "blkio.throttle.write_iops_device"), `${device} 1000`);

        await pause(f, "limits");
        await update({ Pids: { Limit: -1n }, CPU: { Cpus: "0-4095" } });
        assert.equal(
          await file("freezer", "freezer.state"),
          "FROZEN",
          "an update leaves a paused container paused",
        );
        assert.equal(await file("pids", "pids.max"), "max");
        assert.equal(await file("cpuset", "cpuset.cpus"), online, "the cpuset is cut to the online CPUs");
        assert.equal(
          await file("memory", "memory.limit_in_bytes"),
          String(64 << 20),
          "unset members keep their value",
        );
        assert.equal(await file("cpu", "cpu.shares"), "512");
        assert.equal(
          await file("blkio", "blkio.throttle.read_bps_device"),
          `${device} 20000000`,
          "runc update wrote the spec's throttle again; the agent wrote the updated one back",
        );
        await resume(f, "limits");

        await update({ CPU: { Cpus: "4095" } });
        assert.equal(
          await file("cpuset", "cpuset.cpus"),
          online,
          "no requested CPU online: every online CPU",
        );
        await update({ BlockIO: { ThrottleReadBpsDevice: throttle(0n) } });
        assert.equal(await file("blkio", "blkio.throttle.read_bps_device"), "", "rate 0 lifts the throttle");

        await assert.rejects(
          f.rpc.call("updateContainer", { containerId: "limits" }, T),
          failsWith(Code.INVALID_ARGUMENT, /limits: the request has no resources/),
        );
        await assert.rejects(
          update({ CPU: { Cpus: "0-x" } }),
          failsWith(Code.INVALID_ARGUMENT, /invalid CPU list "0-x"/),
        );
        await assert.rejects(
          update({ BlockIO: { ThrottleReadBpsDevice: [{ Major: -1n, Minor: 0n, Rate: 1n }] } }),
          failsWith(Code.INVALID_ARGUMENT, /major device number -1/),
        );
        assert.equal(await file("pids", "pids.max"), "max", "a refused update changes nothing");
        if (swapAccounted) {
          await assert.rejects(
            update({ Memory: { Limit: 64n << 20n, Swap: 32n << 20n } }),
            failsWith(Code.INVALID_ARGUMENT, /runc update limits: .*invalid argument/),
            "the kernel refuses swap below the limit",
          );
        }
      } finally {
        await f.rpc.call("removeContainer", { containerId: "limits" }, T);
      }
      f.assertNoContainerLeft(["limits"]);
    },
  );

  it(
    "lists the container's processes, paused too: pids as JSON, or ps lines (header and those only)",
    TEST,
    async () => {
      await inContainer(f, "procs", async () => {
        await exec(f, "procs", "sl", ["sleep", "2000"]);
        await untilLive("procs", 2);
        const pids = livePids("procs").sort((a, b) => a - b);
        const list = async (format: string, args: string[] = []) =>
          Buffer.from(
            (await f.rpc.call("listProcesses", { containerId: "procs", format, args }, T)).processList,
          ).toString();

        const json = JSON.parse(await list("json")) as number[];
        assert.deepEqual(
          [...json].sort((a, b) => a - b),
          pids,
        );
        assert.ok(json.includes(initPid(f, "procs")));
        await pause(f, "procs");
        assert.deepEqual(JSON.parse(await list("json")), json, "a paused container lists the same");
        assert.equal((await list("table")).trimEnd().split("\n").length, 3);
        await resume(f, "procs");

        const [header = "", ...lines] = (await list("table")).trimEnd().split("\n");
        assert.match(header, /^UID\s+PID\s+PPID\s.*CMD$/);
        assert.equal(lines.length, 2, lines.join("\n"));
        assert.deepEqual(
          lines.map((l) => Number(l.trim().split(/\s+/)[1])).sort((a, b) => a - b),
          pids,
        );
        assert.deepEqual(lines.map((l) => l.replace(/.*:\d\d /, "")).sort(), ["sleep 1000", "sleep 2000"]);

        const custom = (await list("table", ["-e", "-o", "pid,args"])).trimEnd().split("\n");
        assert.deepEqual(
          custom.map((l) => l.trim().replace(/\s+/, " ")).sort(),
          [...pids.map((p) => `${p} sleep ${p === initPid(f, "procs") ? 1000 : 2000}`), "PID COMMAND"].sort(),
        );

        await assert.rejects(
          list("xml"),
          failsWith(Code.INVALID_ARGUMENT, /format "xml" is neither "table" nor "json"/),
        );
        await assert.rejects(list(""), failsWith(Code.INVALID_ARGUMENT, /format ""/));
        await assert.rejects(
          list("table", ["-e", "-o", "comm"]),
          failsWith(Code.INVALID_ARGUMENT, /no PID column/),
        );
        await assert.rejects(
          list("table", ["--bogus"]),
          failsWith(Code.INVALID_ARGUMENT, /ps --bogus: exited with 1/),
        );
      });
    },
  );
});

describe("ListProcesses in a guest without ps", () => {
  const bin = mkdtempSync(join(tmpdir(), "berth-no-ps-"));
  // Only what the agent itself runs: node, runc, and unshare + hostname for CreateSandbox.
  before(() => {
    for (const tool of ["node", "runc", "unshare", "hostname"]) {
      symlinkSync(execFileSync("which", [tool], { encoding: "utf8" }).trim(), join(bin, tool));
    }
  });
  const f = sandboxFixture("nops", { env: { PATH: bin } });
  after(() => rmSync(bin, { recursive: true, force: true }));

  it("fails format table with FAILED_PRECONDITION saying so; format json still works", TEST, async () => {
    await inContainer(f, "nops", async () => {
      await assert.rejects(
        f.rpc.call("listProcesses", { containerId: "nops", format: "table" }, T),
        failsWith(Code.FAILED_PRECONDITION, /runs ps, and the guest has none on its PATH/),
      );
      const { processList } = await f.rpc.call("listProcesses", { containerId: "nops", format: "json" }, T);
      assert.deepEqual(JSON.parse(Buffer.from(processList).toString()), [initPid(f, "nops")]);
    });
  });
});
