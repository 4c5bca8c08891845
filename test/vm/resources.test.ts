/**
 * CPU, memory and swap hot-plugged into the real guest the way Kata's runtime plugs them (QMP), then put to
 * use by the agent: a vCPU onlined by OnlineCPUMem and a container's cpuset widened to it, a DIMM's memory
 * onlined, a swap disk enabled by AddSwap. One VM (1 of 12 vCPUs, 1 GiB with DIMM slots up to 4 GiB; the
 * Debian kernel leaves hot-added memory offline) serves the tests, in order.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { qmpCommand } from "../../src/vm/qmp.js";
import { AgentRpc } from "../support/agent-rpc.js";
import { makeBusyboxRootfs } from "../support/busybox-rootfs.js";
import { bindInto, containerSpec } from "../support/container-spec.js";
import { killVm, plugDisk, SHARE, ShareNamespace, startVm, type VmHandle } from "../support/vm.js";

const T = 60_000;
/**
 * More than 8 possible CPUs, so that the guest sends IPIs in physical destination mode: in the flat logical
 * mode Linux uses up to 8, QEMU 7.2's TCG never delivers an IPI to a hot-plugged vCPU (measured here: no
 * reschedule or function-call interrupt reaches it; onlining it took 12-20 s and the guest then locked up
 * in soft lockups and RCU stalls). With 12 the vCPU is online in about 0.25 s. Kata's default maximum is the
 * host's CPU count, usually past 8 too.
 */
const MAX_CPUS = 12;
const POD = "/kubepods/pod-res";

interface HotpluggableCpu {
  type: string;
  props: Record<string, number>;
  "qom-path"?: string;
}

describe("CPU, memory and swap hot-plugged into a QEMU guest", { timeout: 600_000 }, () => {
  let ns: ShareNamespace;
  let vm: VmHandle | undefined;
  let rpc: AgentRpc;
  let dir: string;
  const rootfs = `${SHARE}/res/rootfs`;
  const out = `${SHARE}/out`;
  const v = () => vm as VmHandle;
  const read = (name: string) => readFileSync(ns.path(`${out}/${name}`), "utf8").trim();
  const ms = (started: number) => Math.round(performance.now() - started);
  const note = (text: string) => process.stderr.write(`# ${text}\n`);

  before(async () => {
    ns = await ShareNamespace.open();
    mkdirSync(ns.path(`${SHARE}/res`), { recursive: true });
    mkdirSync(ns.path(out));
    makeBusyboxRootfs(ns.path(rootfs));
    dir = mkdtempSync(join(tmpdir(), "berth-vm-resources-"));
    const started = performance.now();
    vm = await startVm(ns, [
      ...["--cpus", "1", "--max-cpus", String(MAX_CPUS), "--memory", "1024", "--max-memory", "4096"],
      ...["--hotplug-timeout", "10"],
    ]);
    note(`the VM answered ${ms(started)} ms after berth-vm start`);
    rpc = await AgentRpc.connect(v().agentSocket);
    const share = JSON.parse(v().storageJson);
    await rpc.call("createSandbox", { sandboxId: "res", hostname: "res", storages: [share] }, T);
  });

  after(() => {
    rpc?.close();
    killVm(vm);
    ns?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A container of the pod running `sleep`, with /out and the guest's cgroup tree read-only at /cg. */
  const startSleeper = async (id: string, cpus?: string) => {
    const spec = containerSpec({
      rootfs,
      args: ["sleep", "100000"],
      mounts: [bindInto(out, "/out"), bindInto("/sys/fs/cgroup", "/cg", true)],
      cgroupsPath: `${POD}/${id}`,
      ...(cpus ? { cpus } : {}),
    });
    await rpc.call("createContainer", { containerId: id, execId: id, OCI: spec }, T);
    await rpc.call("startContainer", { containerId: id }, T);
  };
  let execs = 0;
  /** Runs `script` in container `id`; its exit status. */
  const inContainer = async (id: string, script: string) => {
    const execId = `exec-${++execs}`;
    const process = { Args: ["sh", "-c", script], Cwd: "/", Env: ["PATH=/bin"], User: {} };
    await rpc.call("execProcess", { containerId: id, execId, process }, T);
    return (await rpc.call("waitProcess", { containerId: id, execId }, T)).status;
  };
  /** What a process of the container may run on, as its cgroup and its own affinity say. */
  const cpuView = async (id: string, name: string) => {
    const cg = `/cg${POD}/${id}`;
    const script = [
      `echo "cpus=$(cat ${cg}/cpuset.cpus) effective=$(cat ${cg}/cpuset.cpus.effective)"`,
      `echo "allowed=$(grep Cpus_allowed_list /proc/self/status | cut -f2)"`,
      "p=$(taskset -c 1 grep Cpus_allowed_list /proc/self/status 2>/dev/null)",
      `echo "pinned=$? $(echo "$p" | cut -f2)"`,
    ].join("; ");
    assert.equal(await inContainer(id, `(${script}) > /out/${name}`), 0);
    return read(name);
  };
  const memTotalKiB = async () => {
    assert.equal(await inContainer("asked", "grep MemTotal /proc/meminfo > /out/meminfo"), 0);
    return Number(/MemTotal:\s+(\d+) kB/.exec(read("meminfo"))?.[1]);
  };
  /** The agent's log lines in the guest console with message `msg`. */
  const agentLog = (msg: string) =>
    readFileSync(v().log, "utf8")
      .split("\n")
      .filter((line) => line.includes(`"msg":"${msg}"`))
      .flatMap((line) => {
        try {
          return [JSON.parse(line.slice(line.indexOf("{"))) as Record<string, unknown>];
        } catch {
          return [];
        }
      });

  it("onlines a vCPU hot-plugged by QMP, and a container created with cpuset 0-1 before it gets to run on it", async () => {
    await startSleeper("asked", "0-1");
    await startSleeper("unasked");
    assert.equal(
      await cpuView("asked", "asked-before"),
      "cpus=0 effective=0\nallowed=0\npinned=1",
      "CPU 1 is not online: the cpuset asked for is cut to CPU 0, and nothing can be pinned to CPU 1",
    );

    const slots = (await qmpCommand(v().qmpSocket, "query-hotpluggable-cpus")) as HotpluggableCpu[];
    const free = slots.find((slot) => slot["qom-path"] === undefined);
    assert.ok(free, `a free vCPU slot in ${JSON.stringify(slots)}`);
    await qmpCommand(v().qmpSocket, "device_add", { driver: free.type, id: "cpu-1", ...free.props });
    const onlining = performance.now();
    await rpc.call("onlineCPUMem", { nbCpus: 2, cpuOnly: true }, T);
    note(`device_add of a vCPU → OnlineCPUMem(nb_cpus=2) answered: ${ms(onlining)} ms`);
    // The line reaches the console log through the guest's serial console, a moment after the answer.
    let [logged] = agentLog("CPUs and memory online");
    for (let i = 0; !logged && i < 100; i++) {
      await sleep(20);
      [logged] = agentLog("CPUs and memory online");
    }
    note(`the agent: ${JSON.stringify(logged)}`);
    assert.deepEqual(logged?.onlined_cpus, [1]);

    assert.equal(await cpuView("asked", "asked-after"), "cpus=0-1 effective=0-1\nallowed=0-1\npinned=0 1");
    assert.equal(
      await cpuView("unasked", "unasked-after"),
      "cpus= effective=0-1\nallowed=0-1\npinned=0 1",
      "no cpuset of its own (cgroup v2): it follows the guest's CPUs without being written to",
    );
  });

  it("answers OK at once when as many CPUs as asked for are online already", async () => {
    const started = performance.now();
    await rpc.call("onlineCPUMem", { nbCpus: 2, cpuOnly: true }, T);
    await rpc.call("onlineCPUMem", { nbCpus: 1, cpuOnly: true }, T);
    note(`two OnlineCPUMem with the CPUs online already: ${ms(started)} ms`);
  });

  it("onlines the memory of a DIMM hot-plugged by QMP: MemTotal grows by its size", async () => {
    const before = await memTotalKiB();
    await qmpCommand(v().qmpSocket, "object-add", {
      "qom-type": "memory-backend-ram",
      id: "mem1",
      size: 256 << 20,
    });
    const plugged = performance.now();
    await qmpCommand(v().qmpSocket, "device_add", { driver: "pc-dimm", id: "dimm1", memdev: "mem1" });
    await rpc.call("onlineCPUMem", { nbCpus: 0, cpuOnly: false }, T);
    const answered = ms(plugged);
    // Blocks ACPI announces after the call looked are onlined on their uevent, a moment later.
    let grown = (await memTotalKiB()) - before;
    while (grown < 256 << 10 && performance.now() - plugged < 20_000) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      grown = (await memTotalKiB()) - before;
    }
    const byCall = agentLog("CPUs and memory online").at(-1)?.onlined_memory_blocks;
    const byEvent = agentLog("hot-added memory block onlined").map((l) => l.block);
    note(
      `device_add of a 256 MiB DIMM → OnlineCPUMem(0, false) answered: ${answered} ms; MemTotal +${grown} kB after ${ms(plugged)} ms; ` +
        `blocks onlined by the call: ${JSON.stringify(byCall)}, on their uevent: ${JSON.stringify(byEvent)}`,
    );
    assert.equal(grown, 256 << 10);
    assert.equal(
      await inContainer("asked", "grep -l 0 /sys/devices/system/memory/memory*/online > /out/offline"),
      1,
      `no memory block is left offline: ${read("offline")}`,
    );
  });

  it("enables swap on a disk hot-plugged for AddSwap, formatted by the host as Kata's runtime does", async () => {
    const image = join(dir, "swap.img");
    execFileSync("truncate", ["-s", "32M", image]);
    execFileSync("mkswap", [image], { stdio: "ignore" });
    await plugDisk(v(), "blk-swap", image, { bridgeSlot: 3 });
    const started = performance.now();
    await rpc.call("addSwap", { PCIPath: [2, 3] }, T);
    note(`device_add of a swap disk → AddSwap answered: ${ms(started)} ms`);
    assert.equal(
      await inContainer("asked", "cat /proc/swaps > /out/swaps; grep SwapTotal /proc/meminfo >> /out/swaps"),
      0,
    );
    assert.match(read("swaps"), /^\/dev\/vd[a-z]+\s+partition\s+3\d{4}\s/m);
    assert.match(read("swaps"), /^SwapTotal:\s+3\d{4} kB$/m);
  });
});
