/**
 * berth as the init of a real guest: QEMU (TCG) booted by berth-vm, the agent reached through the
 * virtio-serial transport. One VM serves most tests, in order; a second proves `berth-vm stop`.
 */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { create, toBinary } from "@bufbuild/protobuf";
import { ReadStreamRequestSchema } from "../../src/protocol/gen/agent_pb.js";
import { CheckRequestSchema } from "../../src/protocol/gen/health_pb.js";
import { encodeHeader, FrameType } from "../../src/protocol/mux/index.js";
import { connectTtrpc, encodeFrame, encodeRequest, MessageType } from "../../src/protocol/ttrpc/index.js";
import { AGENT_VERSION } from "../../src/version.js";
import { qmpCommand } from "../../src/vm/qmp.js";
import { AgentRpc } from "../support/agent-rpc.js";
import { makeBusyboxRootfs } from "../support/busybox-rootfs.js";
import { containerSpec } from "../support/container-spec.js";
import { buildGoPeers } from "../support/interop-peers.js";
import {
  alive,
  BERTH_VM,
  BERTHCTL,
  killVm,
  proxyPids,
  SHARE,
  ShareNamespace,
  startVm,
  type VmHandle,
  waitGone,
} from "../support/vm.js";

const run = promisify(execFile);
const T = 60_000;
const SANDBOX = "vm-test";

describe("berth in a QEMU guest, over the serial transport", { timeout: 600_000 }, () => {
  let ns: ShareNamespace;
  let vm: VmHandle | undefined;
  let rootfs: string;
  let disk: string;

  before(async () => {
    ns = await ShareNamespace.open();
    mkdirSync(ns.path(`${SHARE}/c1`), { recursive: true });
    makeBusyboxRootfs(ns.path(`${SHARE}/c1/rootfs`));
    rootfs = `${SHARE}/c1/rootfs`;
    disk = join(mkdtempSync(join(tmpdir(), "berth-vm-disk-")), "cold.img");
    writeFileSync(disk, Buffer.alloc(0));
    truncateSync(disk, 8 << 20);
    vm = await startVm(ns, ["--hotplug-timeout", "10", "--disk", disk]);
    process.stderr.write(`# the VM answered Health ${vm.startMs} ms after berth-vm start\n`);
  });

  after(() => {
    killVm(vm);
    ns?.close();
    if (disk) rmSync(dirname(disk), { recursive: true, force: true });
  });

  const agent = () => AgentRpc.connect((vm as VmHandle).agentSocket);
  /** A container of the share's busybox rootfs running `args`, created and started. */
  const startContainer = async (rpc: AgentRpc, id: string, args: string[]) => {
    await rpc.call(
      "createContainer",
      { containerId: id, execId: id, OCI: containerSpec({ rootfs, args }) },
      T,
    );
    await rpc.call("startContainer", { containerId: id }, T);
  };

  it("boots with berth as PID 1 and prints the share's storage last", async () => {
    const v = vm as VmHandle;
    assert.deepEqual(JSON.parse(v.storageJson), {
      driver: "9p",
      source: "kataShared",
      fstype: "9p",
      options: ["trans=virtio,version=9p2000.L,cache=mmap", "nodev", "msize=262144"],
      mountPoint: SHARE,
    });
    const { stdout } = await run(process.execPath, [BERTHCTL, "--addr", `unix://${v.agentSocket}`, "health"]);
    assert.match(stdout, /SERVING/);
    // berth-vm holds no QMP connection: outside tools (hot-plug) get QEMU's one QMP client.
    assert.deepEqual(await qmpCommand(v.qmpSocket, "query-status"), {
      status: "running",
      singlestep: false,
      running: true,
    });
    const console = readFileSync(v.log, "utf8");
    assert.match(console, /"msg":"guest initialised as PID 1"/);
    assert.match(console, /"msg":"loaded the boot modules"/);
  });

  it("runs a container from a rootfs the host built in the share: its output and exit code", async () => {
    const v = vm as VmHandle;
    const result = await ns
      .exec([
        process.execPath,
        BERTHCTL,
        "--addr",
        `unix://${v.agentSocket}`,
        "run",
        "--sandbox-storage",
        v.storageJson,
        "--hostname",
        SANDBOX,
        "--rootfs",
        rootfs,
        "--",
        "sh",
        "-c",
        "echo hello from $(hostname); cat /proc/1/comm >&2; ls /sys/block >&2; exit 3",
      ])
      .then(
        () => assert.fail("exit 3 expected"),
        (error: { code: number; stdout: string; stderr: string }) => error,
      );
    assert.equal(result.code, 3, result.stderr);
    assert.equal(result.stdout, `hello from ${SANDBOX}\n`);
    assert.match(result.stderr, /^sh\n/m);
    assert.match(result.stderr, /^vda$/m, "the --disk is a virtio-blk disk present at boot");
  });

  it("carries exec, stdin, a tty resize and a signal to a container in the guest", async () => {
    const rpc = await agent();
    try {
      const id = "long";
      await startContainer(rpc, id, ["sh", "-c", "trap 'exit 42' TERM; while :; do sleep 0.1; done"]);
      await rpc.call(
        "execProcess",
        {
          containerId: id,
          execId: "cat",
          process: {
            Args: ["sh", "-c", "read line; echo got:$line"],
            Cwd: "/",
            Env: ["PATH=/bin"],
            User: {},
          },
        },
        T,
      );
      await rpc.call("writeStdin", { containerId: id, execId: "cat", data: Buffer.from("ping\n") }, T);
      const out = await rpc.call("readStdout", { containerId: id, execId: "cat", len: 1024 }, T);
      assert.equal(Buffer.from(out.data).toString(), "got:ping\n");
      assert.equal((await rpc.call("waitProcess", { containerId: id, execId: "cat" }, T)).status, 0);

      await rpc.call(
        "execProcess",
        {
          containerId: id,
          execId: "tty",
          process: {
            Terminal: true,
            Args: ["sh", "-c", "sleep 1; stty size"],
            Cwd: "/",
            Env: ["PATH=/bin"],
            User: {},
          },
        },
        T,
      );
      await rpc.call("ttyWinResize", { containerId: id, execId: "tty", row: 33, column: 101 }, T);
      let tty = "";
      while (!tty.includes("\n")) {
        const chunk = await rpc.call("readStdout", { containerId: id, execId: "tty", len: 1024 }, T);
        if (chunk.data.length === 0) break;
        tty += Buffer.from(chunk.data).toString();
      }
      assert.equal(tty.trim(), "33 101");

      await rpc.call("signalProcess", { containerId: id, execId: "", signal: 15 }, T);
      const waited = await rpc.call("waitProcess", { containerId: id, execId: id }, T);
      assert.equal(waited.status, 42, "the container's init got the SIGTERM");
      await rpc.call("removeContainer", { containerId: id }, T);
    } finally {
      rpc.close();
    }
  });

  it("serves two host clients at once, each its own ttrpc connection", async () => {
    const [a, b] = await Promise.all([agent(), agent()]);
    try {
      const id = "waiter";
      await startContainer(a, id, ["sh", "-c", "sleep 2; exit 7"]);
      const waited = a.call("waitProcess", { containerId: id, execId: id }, T);
      const checks = await Promise.all(Array.from({ length: 20 }, () => b.call("getGuestDetails", {}, T)));
      assert.equal(checks.length, 20);
      assert.equal((await waited).status, 7);
      await b.call("removeContainer", { containerId: id }, T);
    } finally {
      a.close();
      b.close();
    }
  });

  it("answers the Go containerd/ttrpc client through the proxy", async () => {
    const peers = await buildGoPeers();
    const { stdout } = await run(peers.peer, [
      "health",
      "--proto",
      "ttrpc",
      "--addr",
      `unix://${(vm as VmHandle).agentSocket}`,
    ]);
    assert.deepEqual(JSON.parse(stdout.trim().split("\n")[0] ?? ""), {
      check: "SERVING",
      grpc_version: "0.0.1",
      agent_version: AGENT_VERSION,
    });
  });

  it("never hands a killed client's late reply to the next client", async () => {
    const v = vm as VmHandle;
    const rpc = await agent();
    const id = "late";
    try {
      await startContainer(rpc, id, ["sh", "-c", "sleep 3; echo LATE"]);
      // A client in a process of its own asks for the container's output on ttrpc stream 1 and is killed
      // while it waits: the agent's answer comes for a stream whose client is gone.
      const request = encodeRequest({
        service: "grpc.AgentService",
        method: "ReadStdout",
        payload: toBinary(
          ReadStreamRequestSchema,
          create(ReadStreamRequestSchema, { containerId: id, execId: id, len: 64 }),
        ),
        timeoutNano: 0n,
        metadata: [],
      });
      const frame = encodeFrame(1, MessageType.REQUEST, 0, request);
      const script = `const s = require("node:net").connect(${JSON.stringify(v.agentSocket)}, () => {
        s.write(Buffer.from("${frame.toString("hex")}", "hex"), () => process.stdout.write("sent\\n"));
      });`;
      const victim = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
      await new Promise((resolve) => victim.stdout.once("data", resolve));
      await new Promise((resolve) => setTimeout(resolve, 300));
      victim.kill("SIGKILL");
      // New clients, each making its first call on stream 1, through the moment the answer is due.
      const until = Date.now() + 5000;
      let calls = 0;
      while (Date.now() < until) {
        const fresh = await connectTtrpc(v.agentSocket);
        try {
          const reply = await fresh.call(
            "grpc.Health",
            "Check",
            toBinary(CheckRequestSchema, create(CheckRequestSchema)),
            {
              timeoutMs: T,
            },
          );
          assert.equal(
            Buffer.from(reply).toString("hex"),
            "0801",
            "a Health reply (SERVING) and nothing else",
          );
          calls++;
        } finally {
          fresh.close();
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(calls > 5, `${calls} calls`);
      assert.equal((await rpc.call("waitProcess", { containerId: id, execId: id }, T)).status, 0);
      await rpc.call("removeContainer", { containerId: id }, T);
    } finally {
      rpc.close();
    }
  });

  it("survives the host end restarting, and garbage written to the port meanwhile", async () => {
    const v = vm as VmHandle;
    const proxies = proxyPids(v.agentSocket);
    assert.equal(proxies.length, 1, "one proxy serves the VM");
    process.kill(proxies[0] as number, "SIGKILL");
    assert.ok(await waitGone(proxies[0] as number, 5000));
    // What another client of QEMU's socket leaves on the line: garbage, and a frame cut short.
    const junk = connect(`${v.agentSocket}.port`);
    await new Promise((resolve) => junk.once("connect", resolve));
    junk.write(
      Buffer.concat([
        Buffer.from("garbage\0\xff\x01"),
        encodeHeader(FrameType.DATA, 9, 30000),
        Buffer.alloc(99),
      ]),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    junk.destroy();
    const proxy = spawn(
      process.execPath,
      [BERTH_VM, "proxy", "--port-socket", `${v.agentSocket}.port`, "--agent-socket", v.agentSocket],
      { detached: true, stdio: "ignore" },
    );
    proxy.unref();
    // The old proxy's socket file is still there until the new one takes its place: ask until it answers.
    const started = Date.now();
    let stdout = "";
    while (!stdout && Date.now() - started < 10_000) {
      stdout = await run(process.execPath, [BERTHCTL, "--addr", `unix://${v.agentSocket}`, "health"], {
        timeout: T,
      }).then(
        (r) => r.stdout,
        () => "",
      );
      if (!stdout) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.match(stdout, /SERVING/);
    process.stderr.write(
      `# a new host end answered Health ${Date.now() - started} ms after it was started\n`,
    );
  });

  it("powers the VM off after DestroySandbox: QEMU exits and the proxy with it", async () => {
    const v = vm as VmHandle;
    const rpc = await agent();
    try {
      await rpc.call("destroySandbox", {}, T);
    } finally {
      rpc.close();
    }
    assert.ok(await waitGone(v.qemuPid, 30_000), "QEMU exited");
    await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.deepEqual(proxyPids(v.agentSocket), [], "no proxy is left");
    assert.equal(existsSync(v.agentSocket), false, "the agent socket is gone");
    const console = readFileSync(v.log, "utf8");
    assert.match(console, /"msg":"sandbox destroyed"/);
    // The kernel's own word that it powered off (what the agent logs last may still sit in the UART).
    assert.match(console, /reboot: Power down/);
    assert.doesNotMatch(console, /Kernel panic/);
  });
});

describe("berth-vm stop", { timeout: 300_000 }, () => {
  let ns: ShareNamespace;
  let vm: VmHandle | undefined;

  before(async () => {
    ns = await ShareNamespace.open();
    vm = await startVm(ns, ["--memory", "512", "--cpus", "1", "--max-cpus", "2"]);
  });

  after(() => {
    killVm(vm);
    ns?.close();
  });

  it("ends the VM and returns once QEMU has exited", async () => {
    const v = vm as VmHandle;
    assert.ok(alive(v.qemuPid));
    await run(process.execPath, [BERTH_VM, "stop", "--qmp-socket", v.qmpSocket, "--pid-file", v.pidFile], {
      timeout: T,
    });
    assert.equal(alive(v.qemuPid), false);
    assert.equal(existsSync(v.pidFile), false);
    assert.ok(await waitGone(proxyPids(v.agentSocket)[0] ?? 0, 5000), "the proxy ends with the VM");
  });
});
