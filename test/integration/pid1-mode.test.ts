import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connectTtrpc } from "../../src/protocol/ttrpc/client.js";
import { parseMountinfo } from "../../src/sys/mountinfo.js";
import { AGENT_BIN } from "../support/agent-process.js";
import { AgentRpc } from "../support/agent-rpc.js";
import { Fixture } from "../support/container-fixture.js";
import { childrenOf } from "../support/leftovers.js";
import { zombieChildren } from "../support/process-helpers.js";

/**
 * berth as the init of a guest: PID 1 of a new PID namespace, in new mount, UTS and network namespaces
 * (never this machine's own), with /etc/hostname covered by a file of the test's.
 */
class InitAgent {
  readonly dir = mkdtempSync(join(tmpdir(), "berth-pid1-"));
  readonly socket = join(this.dir, "agent.sock");
  child!: ChildProcess;
  pid = 0;
  output = "";
  readonly exited: Promise<number | null>;
  #exit!: (code: number | null) => void;

  constructor() {
    this.exited = new Promise((resolve) => {
      this.#exit = resolve;
    });
  }

  async start(): Promise<void> {
    writeFileSync(join(this.dir, "hostname"), "guest-under-test\n");
    writeFileSync(join(this.dir, "resolv.conf"), "");
    const agent = [
      AGENT_BIN,
      ...["--server-addr", `unix://${this.socket}`, "--log-level", "debug", "--shutdown-action", "exit"],
      ...["--run-dir", join(this.dir, "run"), "--sandbox-ns-dir", join(this.dir, "ns")],
      ...["--resolv-conf", join(this.dir, "resolv.conf"), "--runc-root", join(this.dir, "runc")],
    ];
    // sh binds the test's hostname file and takes /proc away, as in a fresh guest (the agent must mount it
    // before it reads the mount table), then execs the agent, which keeps PID 1.
    const script = `mount --bind "$1" /etc/hostname && umount -l /proc && shift && exec "$@"`;
    this.child = spawn(
      "unshare",
      [
        "--pid",
        "--fork",
        "--mount",
        "--uts",
        "--net",
        "--propagation",
        "private",
        "sh",
        "-c",
        script,
        "sh",
        join(this.dir, "hostname"),
        ...agent,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    this.child.stdout?.on("data", (d) => {
      this.output += d;
    });
    this.child.stderr?.on("data", (d) => {
      this.output += d;
    });
    this.child.once("exit", (code) => this.#exit(code));
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        const c = await connectTtrpc(this.socket);
        await c.call("grpc.Health", "Check", new Uint8Array(0), { timeoutMs: 1000 });
        c.close();
        break;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`agent not ready: ${String(error)}\n${this.output}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    const [init] = childrenOf(this.child.pid ?? -1);
    assert.ok(init, "unshare's child is the namespace's init");
    this.pid = init[0];
  }

  inNamespaces(args: string[]): string {
    return execFileSync("nsenter", [`--target=${this.pid}`, "--mount", "--uts", "--net", "--pid", ...args], {
      encoding: "utf8",
    });
  }

  async stop() {
    this.child?.kill("SIGKILL");
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe("PID 1 mode", () => {
  const agent = new InitAgent();
  before(() => agent.start());
  after(() => agent.stop());

  it("is PID 1 of its namespace and sets the guest up: /proc of its own, hostname, loopback", () => {
    assert.equal(agent.inNamespaces(["cat", "/proc/1/comm"]).trim(), "node");
    const mounts = parseMountinfo(readFileSync(`/proc/${agent.pid}/mountinfo`, "utf8"));
    const types = new Set(mounts.map((m) => `${m.fsType} ${m.mountPoint}`));
    for (const expected of ["proc /proc", "sysfs /sys", "devtmpfs /dev", "devpts /dev/pts", "tmpfs /run"]) {
      assert.ok(types.has(expected), `${expected} is mounted`);
    }
    assert.ok(
      mounts.some((m) => m.mountPoint.startsWith("/sys/fs/cgroup")),
      "cgroups are mounted",
    );
    assert.equal(agent.inNamespaces(["hostname"]).trim(), "guest-under-test");
    assert.match(agent.inNamespaces(["ip", "-o", "link", "show", "lo"]), /[<,]UP[,>]/);
    assert.equal(
      readFileSync("/etc/hostname", "utf8").trim() !== "guest-under-test",
      true,
      "the machine's is untouched",
    );
  });

  it("reaps orphans that end up under it", async () => {
    // nsenter's child in the namespace leaves a background sleep behind: it is reparented to PID 1.
    agent.inNamespaces(["sh", "-c", "sleep 0.2 >/dev/null 2>&1 &"]);
    await new Promise((r) => setTimeout(r, 600));
    assert.deepEqual(zombieChildren(agent.pid), []);
    assert.match(agent.output, /reaped an orphan/);
  });

  it("finishes cleanly after DestroySandbox (shutdown action: exit)", async () => {
    const rpc = await AgentRpc.connect(agent.socket);
    await rpc.call("createSandbox", { sandboxId: "pid1", hostname: "pid1" });
    await rpc.call("destroySandbox", {});
    rpc.close();
    assert.equal(await agent.exited, 0);
    assert.match(agent.output, /"reason":"DestroySandbox"/);
  });
});

describe("service mode", () => {
  const f = new Fixture();
  before(() => f.start());
  after(() => f.stop());

  it("finishes a call in flight on SIGTERM, answers it, then exits 0", async () => {
    await f.rpc.call("createSandbox", { sandboxId: "svc", hostname: "svc" });
    const spec = f.spec(["sleep", "1000"]);
    spec.Hooks = { Poststop: [{ Path: "/bin/sleep", Args: ["sleep", "1"] }] };
    await f.rpc.call("createContainer", { containerId: "slow", OCI: spec });
    await f.rpc.call("startContainer", { containerId: "slow" });
    const removal = f.rpc.call("removeContainer", { containerId: "slow" });
    await new Promise((r) => setTimeout(r, 300));
    process.kill(f.agent.pid, "SIGTERM");
    await removal;
    assert.deepEqual(await f.agent.wait(), { code: 0, signal: null });
  });
});
