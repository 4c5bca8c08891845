/**
 * OnlineCPUMem on this machine, without onlining or offlining a real CPU: the agent's mount namespace has
 * a file of the test's bind-mounted over /sys/devices/system/cpu/online, so the agent first sees CPU 0
 * alone, then both CPUs, while the cgroups are real. The sandbox's cgroups are made by the test, narrow
 * ("0"), under the cgroup v1 cpuset hierarchy; the containers go below them.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseCpuList } from "../../src/sys/cpus.js";
import { type AgentProcess, persistentMountNamespace, startAgent } from "../support/agent-process.js";
import { AgentRpc } from "../support/agent-rpc.js";
import { makeBusyboxRootfs } from "../support/busybox-rootfs.js";
import { bindInto, containerSpec } from "../support/container-spec.js";
import { exec, T, waitFor } from "../support/process-helpers.js";

const CPUSET = "/sys/fs/cgroup/cpuset";
const TAG = `berth-cpumem-${process.pid}`;
const hostCpus = parseCpuList(readFileSync("/sys/devices/system/cpu/online", "utf8"));
const skip =
  !existsSync(`${CPUSET}/cpuset.cpus`) || !hostCpus.includes(0) || !hostCpus.includes(1)
    ? "needs the cgroup v1 cpuset hierarchy and CPUs 0 and 1 online"
    : false;

/** Every cgroup hierarchy's directory of the test's cgroups, deepest first (runc made them in each). */
function removeTestCgroups(): void {
  for (const hierarchy of readdirSync("/sys/fs/cgroup")) {
    for (const path of [`${TAG}/pod`, TAG]) {
      const dir = `/sys/fs/cgroup/${hierarchy}/${path}`;
      if (existsSync(dir)) rmdirSync(dir);
    }
  }
}

describe("OnlineCPUMem widens the cpusets of real cgroups", { skip, timeout: 120_000 }, () => {
  let dir: string;
  let ns: { file: string; close(): void };
  let agent: AgentProcess;
  let rpc: AgentRpc;
  const online = () => join(dir, "cpu-online");
  const cpus = (path: string) => readFileSync(`${CPUSET}/${TAG}/${path}/cpuset.cpus`, "utf8").trim();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "berth-cpumem-"));
    makeBusyboxRootfs(join(dir, "rootfs"));
    mkdirSync(join(dir, "out"));
    writeFileSync(online(), "0\n");
    ns = await persistentMountNamespace();
    execFileSync("nsenter", [
      `--mount=${ns.file}`,
      "mount",
      "--bind",
      online(),
      "/sys/devices/system/cpu/online",
    ]);
    for (const path of [TAG, `${TAG}/pod`]) {
      mkdirSync(`${CPUSET}/${path}`);
      writeFileSync(`${CPUSET}/${path}/cpuset.cpus`, "0");
      writeFileSync(`${CPUSET}/${path}/cpuset.mems`, "0");
    }
    agent = await startAgent({ mountNamespace: ns.file, netns: true });
    rpc = await AgentRpc.connect(agent.socketPath);
    await rpc.call("createSandbox", { sandboxId: "cpumem", hostname: "cpumem" }, T);
  });

  after(async () => {
    await rpc?.call("destroySandbox", {}, T).catch(() => {});
    rpc?.close();
    await agent?.stop();
    ns?.close();
    removeTestCgroups();
    rmSync(dir, { recursive: true, force: true });
  });

  const host = {
    get rpc() {
      return rpc;
    },
    spec: (args: string[], cpuset?: string, id = "x") =>
      containerSpec({
        rootfs: join(dir, "rootfs"),
        args,
        mounts: [bindInto(join(dir, "out"), "/out")],
        cgroupsPath: `/${TAG}/pod/${id}`,
        ...(cpuset ? { cpus: cpuset } : {}),
      }),
  };
  const start = async (id: string, cpuset?: string) => {
    await rpc.call(
      "createContainer",
      { containerId: id, execId: id, OCI: host.spec(["sleep", "1000"], cpuset, id) },
      T,
    );
    await rpc.call("startContainer", { containerId: id }, T);
  };

  it("widens the sandbox's cgroups and the containers', one that asked for none too, to the CPUs online now", async () => {
    await start("asked", "0-1");
    await start("unasked");
    await start("pinned", "0");
    for (const path of ["", "pod", "pod/asked", "pod/unasked", "pod/pinned"])
      assert.equal(cpus(path), "0", path);

    writeFileSync(online(), "0-1\n");
    const started = performance.now();
    await rpc.call("onlineCPUMem", { nbCpus: 2, cpuOnly: true }, T);
    process.stderr.write(
      `# OnlineCPUMem (2 CPUs online already, 3 containers): ${Math.round(performance.now() - started)} ms\n`,
    );

    for (const path of ["", "pod", "pod/asked", "pod/unasked"]) assert.equal(cpus(path), "0-1", path);
    assert.equal(cpus("pod/pinned"), "0");
    const pids = readFileSync(`${CPUSET}/${TAG}/pod/asked/tasks`, "utf8").trim().split("\n");
    for (const pid of pids) {
      assert.match(readFileSync(`/proc/${pid}/status`, "utf8"), /^Cpus_allowed_list:\s+0-1$/m, `init ${pid}`);
    }
    await exec(host, "unasked", "affinity", [
      "sh",
      "-c",
      "grep Cpus_allowed_list /proc/self/status > /out/affinity",
    ]);
    assert.equal(await waitFor(host, "unasked", "affinity"), 0);
    assert.match(readFileSync(join(dir, "out/affinity"), "utf8"), /^Cpus_allowed_list:\s+0-1$/m);
  });

  it("answers OK for nb_cpus 0 with cpu_only, touching nothing", async () => {
    writeFileSync(`${CPUSET}/${TAG}/pod/asked/cpuset.cpus`, "0");
    await rpc.call("onlineCPUMem", { nbCpus: 0, cpuOnly: true }, T);
    assert.equal(cpus("pod/asked"), "0");
  });

  it("fails at once, naming the limit, when more CPUs are asked for than the kernel can have", async () => {
    await assert.rejects(
      rpc.call("onlineCPUMem", { nbCpus: 100_000, cpuOnly: true }, T),
      /cannot have 100000 CPUs online: the guest kernel can have \d+ \(possible: /,
    );
  });
});
