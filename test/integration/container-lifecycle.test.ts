import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code } from "../../src/protocol/ttrpc/code.js";
import { Fixture, failsWith } from "../support/container-fixture.js";
import { bindInto } from "../support/container-spec.js";
import { childrenOf, entries, mountsUnder, runcContainers } from "../support/leftovers.js";

describe("sandbox and containers on runc", () => {
  const f = new Fixture();
  const hooks = join(f.dir, "hooks");

  before(async () => {
    mkdirSync(join(hooks, "prestart"), { recursive: true });
    writeFileSync(
      join(hooks, "prestart", "record"),
      `#!/bin/sh\necho "$@" >> ${join(f.out, "prestart-hook")}\n`,
    );
    chmodSync(join(hooks, "prestart", "record"), 0o755);
    await f.start();
  });
  after(() => f.stop());

  it("refuses containers before CreateSandbox", async () => {
    await assert.rejects(
      f.rpc.call("createContainer", { containerId: "early", OCI: f.spec(["true"]) }),
      failsWith(Code.FAILED_PRECONDITION, /no sandbox/),
    );
  });

  it("fails CreateSandbox on a kernel module modprobe cannot load, with modprobe's reason", async () => {
    await assert.rejects(
      f.rpc.call("createSandbox", {
        sandboxId: "sb0",
        hostname: "sb0",
        kernelModules: [{ name: "berth_no_such_module", parameters: ["x=1"] }],
      }),
      failsWith(Code.INTERNAL, /modprobe -v berth_no_such_module x=1: exited with 1: .*not found/),
    );
    await assert.rejects(
      f.rpc.call("createSandbox", { sandboxId: "sb0", kernelModules: [{ name: "-r", parameters: [] }] }),
      failsWith(Code.INVALID_ARGUMENT, /kernel module name "-r"/),
    );
  });

  it("creates the sandbox once: hostname and IPC in shared namespaces, DNS over resolv.conf", async () => {
    await f.rpc.call("createSandbox", {
      sandboxId: "sb1",
      hostname: "berth-pod",
      dns: ["nameserver 10.9.8.7", "search berth.test"],
      guestHookPath: hooks,
    });
    await assert.rejects(
      f.rpc.call("createSandbox", { sandboxId: "sb2", hostname: "other" }),
      failsWith(Code.ALREADY_EXISTS, /sb1/),
    );
    const nsDir = join(f.agent.dir, "sandbox-ns");
    assert.deepEqual(mountsUnder(f.agent.pid, nsDir).sort(), [join(nsDir, "ipc"), join(nsDir, "uts")]);
    const resolv = join(f.agent.dir, "resolv.conf");
    assert.deepEqual(mountsUnder(f.agent.pid, resolv), [resolv]);
    assert.equal(readFileSync(resolv, "utf8"), "nameserver 127.0.0.53\n", "the file outside is untouched");
    assert.notEqual(execFileSync("hostname", { encoding: "utf8" }).trim(), "berth-pod");
  });

  it("runs containers that share the sandbox's UTS and IPC namespaces, with its DNS, rlimits and hooks", async () => {
    const facts = (name: string) =>
      [
        `hostname > /out/${name}.hostname`,
        `readlink /proc/self/ns/uts > /out/${name}.uts`,
        `readlink /proc/self/ns/ipc > /out/${name}.ipc`,
        `echo $$ > /out/${name}.pid`,
        `cat /etc/resolv.conf > /out/${name}.resolv`,
        `ulimit -n > /out/${name}.nofile`,
      ].join("; ");
    const resolvMount = bindInto(join(f.agent.dir, "resolv.conf"), "/etc/resolv.conf", true);
    const rlimits = [{ type: "RLIMIT_NOFILE", hard: 777n, soft: 777n }];
    assert.equal(await f.run("first", facts("first"), { mounts: [resolvMount], rlimits }), 0);
    assert.equal(await f.run("second", facts("second"), { mounts: [resolvMount] }), 0);
    assert.equal(f.read("first.hostname"), "berth-pod");
    assert.equal(f.read("first.uts"), f.read("second.uts"));
    assert.equal(f.read("first.ipc"), f.read("second.ipc"));
    assert.notEqual(f.read("first.uts"), readlinkSync(`/proc/${f.agent.pid}/ns/uts`));
    assert.equal(
      f.read("first.pid"),
      "1",
      "no sandbox_pidns: each container is init of its own PID namespace",
    );
    assert.equal(f.read("first.resolv"), "nameserver 10.9.8.7\nsearch berth.test");
    assert.equal(f.read("first.nofile"), "777");
    assert.equal(f.read("prestart-hook"), "prestart\nprestart", "hooks get argv [name, type]");
    f.assertNoContainerLeft(["first", "second"]);
  });

  it("moves through created → running → stopped, refusing illegal moves", async () => {
    await f.rpc.call("createContainer", { containerId: "states", OCI: f.spec(["sleep", "1000"]) });
    const state = () =>
      JSON.parse(execFileSync("runc", ["--root", f.runcRoot, "state", "states"], { encoding: "utf8" }))
        .status;
    assert.equal(state(), "created");
    await f.rpc.call("startContainer", { containerId: "states" });
    assert.equal(state(), "running");
    await assert.rejects(
      f.rpc.call("startContainer", { containerId: "states" }),
      failsWith(Code.FAILED_PRECONDITION, /container states is running: it cannot become running/),
    );
    await f.rpc.call("removeContainer", { containerId: "states" });
    await assert.rejects(
      f.rpc.call("startContainer", { containerId: "states" }),
      failsWith(Code.NOT_FOUND, /states/),
    );
    f.assertNoContainerLeft(["states"]);
  });

  it("removes a container that was created but never started", async () => {
    await f.rpc.call("createContainer", { containerId: "unstarted", OCI: f.spec(["true"]) });
    await f.rpc.call("removeContainer", { containerId: "unstarted" });
    f.assertNoContainerLeft(["unstarted"]);
  });

  it("refuses bad ids, duplicates and a spec that still carries a PID namespace", async () => {
    for (const id of ["a", ".hidden", "../escape", "a/b", "x".repeat(300)]) {
      await assert.rejects(
        f.rpc.call("createContainer", { containerId: id, OCI: f.spec(["true"]) }),
        failsWith(Code.INVALID_ARGUMENT, /container id/),
        id,
      );
    }
    await assert.rejects(
      f.rpc.call("createContainer", {
        containerId: "pidns",
        OCI: f.spec(["true"], { namespaces: [{ type: "pid" }] }),
      }),
      failsWith(Code.FAILED_PRECONDITION, /PID namespace/),
    );
    await f.rpc.call("createContainer", { containerId: "dup", OCI: f.spec(["true"]) });
    await assert.rejects(
      f.rpc.call("createContainer", { containerId: "dup", OCI: f.spec(["true"]) }),
      failsWith(Code.ALREADY_EXISTS, /dup/),
    );
    await f.rpc.call("removeContainer", { containerId: "dup" });
    f.assertNoContainerLeft(["dup", "pidns"]);
  });

  it("returns runc's own words when runc create fails, and leaves nothing behind", async () => {
    await assert.rejects(
      f.rpc.call("createContainer", { containerId: "nocmd", OCI: f.spec(["/no/such/binary"]) }),
      failsWith(Code.INTERNAL, /runc create nocmd: .*no such file or directory/i),
    );
    f.assertNoContainerLeft(["nocmd"]);
  });

  it("honours a read-only root, net.* sysctls in the guest and the online-CPU cpuset", async () => {
    const machineForward = readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8");
    const spec = f.spec(["sh", "-c", "touch /newfile"], {
      readonlyRoot: true,
      sysctl: { "net.ipv4.ip_forward": "1", "kernel.shmmni": "1000" },
      cpus: "0-1023",
    });
    await f.rpc.call("createContainer", { containerId: "readonly", OCI: spec });
    const config = JSON.parse(readFileSync(join(f.runDir, "readonly", "config.json"), "utf8"));
    assert.deepEqual(config.linux.sysctl, { "kernel.shmmni": "1000" });
    assert.equal(
      config.linux.resources.cpu.cpus,
      readFileSync("/sys/devices/system/cpu/online", "utf8").trim(),
    );
    assert.equal(config.root.path, join(f.runDir, "readonly", "rootfs"));
    const [major, minor] = execFileSync("stat", ["-c", "%Hd %Ld", "/"], { encoding: "utf8" })
      .trim()
      .split(" ")
      .map(Number);
    if (major) {
      assert.deepEqual(config.linux.resources.devices.at(-1), {
        allow: false,
        type: "b",
        major,
        minor,
        access: "rwm",
      });
    }
    await f.rpc.call("startContainer", { containerId: "readonly" });
    assert.notEqual((await f.rpc.call("waitProcess", { containerId: "readonly" })).status, 0);
    await f.rpc.call("removeContainer", { containerId: "readonly" });
    const agentNet = `--net=/proc/${f.agent.pid}/ns/net`;
    const forward = execFileSync("nsenter", [agentNet, "cat", "/proc/sys/net/ipv4/ip_forward"], {
      encoding: "utf8",
    });
    assert.equal(forward.trim(), "1");
    assert.equal(
      readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8"),
      machineForward,
      "the machine's is untouched",
    );
    f.assertNoContainerLeft(["readonly"]);
  });

  it("gives a terminal container a pty from runc's console socket", async () => {
    assert.equal(await f.run("tty", "test -t 0 && test -t 1 && echo yes > /out/tty", { terminal: true }), 0);
    assert.equal(f.read("tty"), "yes");
  });

  it("bounds RemoveContainer by its timeout and finishes the removal in the background", async () => {
    const spec = f.spec(["sleep", "1000"]);
    spec.Hooks = { Poststop: [{ Path: "/bin/sleep", Args: ["sleep", "2"] }] };
    await f.rpc.call("createContainer", { containerId: "slow", OCI: spec });
    await f.rpc.call("startContainer", { containerId: "slow" });
    await assert.rejects(
      f.rpc.call("removeContainer", { containerId: "slow", timeout: 1 }),
      failsWith(Code.DEADLINE_EXCEEDED, /slow not removed after 1 s/),
    );
    const deadline = Date.now() + 10_000;
    while (runcContainers(f.runcRoot).includes("slow") || existsSync(join(f.runDir, "slow"))) {
      assert.ok(Date.now() < deadline, "the removal finished in the background");
      await new Promise((r) => setTimeout(r, 50));
    }
    await assert.rejects(
      f.rpc.call("removeContainer", { containerId: "slow" }),
      failsWith(Code.NOT_FOUND, /slow/),
    );
    f.assertNoContainerLeft(["slow"]);
  });

  it("review #15: a RemoveContainer timeout past setTimeout's range waits instead of failing at once", async () => {
    const spec = f.spec(["sleep", "1000"]);
    spec.Hooks = { Poststop: [{ Path: "/bin/sleep", Args: ["sleep", "1"] }] };
    await f.rpc.call("createContainer", { containerId: "long-timeout", OCI: spec });
    await f.rpc.call("startContainer", { containerId: "long-timeout" });
    await f.rpc.call("removeContainer", { containerId: "long-timeout", timeout: 0xffff_ffff });
    f.assertNoContainerLeft(["long-timeout"]);
  });

  it("destroys the sandbox: containers, namespaces and DNS all undone, and keeps serving", async () => {
    await f.rpc.call("createContainer", { containerId: "leftover", OCI: f.spec(["sleep", "1000"]) });
    await f.rpc.call("startContainer", { containerId: "leftover" });
    await f.rpc.call("destroySandbox", {});
    f.assertNoContainerLeft(["leftover"]);
    assert.deepEqual(mountsUnder(f.agent.pid, f.agent.dir), []);
    assert.deepEqual(entries(join(f.agent.dir, "sandbox-ns")), []);
    assert.deepEqual(
      childrenOf(f.agent.pid).filter(([, comm]) => comm !== "runc"),
      [],
    );
    await f.rpc.call("createSandbox", { sandboxId: "again", hostname: "again" });
    await f.rpc.call("destroySandbox", {});
  });
});

describe("sandbox_pidns", () => {
  const f = new Fixture();
  before(() => f.start());
  after(() => f.stop());

  it("holds one PID namespace that every container joins, and ends it with the sandbox", async () => {
    await f.rpc.call("createSandbox", { sandboxId: "pidns", hostname: "pidns", sandboxPidns: true });
    const pause = childrenOf(f.agent.pid).filter(([, comm]) => comm === "berth-pause");
    assert.equal(pause.length, 1);
    assert.equal(await f.run("one", "readlink /proc/self/ns/pid > /out/one; echo $$ > /out/one.pid"), 0);
    assert.equal(await f.run("two", "readlink /proc/self/ns/pid > /out/two"), 0);
    assert.equal(f.read("one"), f.read("two"));
    assert.equal(f.read("one"), readlinkSync(`/proc/${pause[0]?.[0]}/ns/pid`));
    assert.notEqual(f.read("one.pid"), "1", "berth-pause is the namespace's init");
    await f.rpc.call("destroySandbox", {});
    assert.deepEqual(
      childrenOf(f.agent.pid).filter(([, comm]) => comm === "berth-pause"),
      [],
    );
  });
});

describe("storages and devices through CreateContainer", () => {
  const f = new Fixture();
  let image: string;
  let loop = "";

  before(async () => {
    image = join(f.dir, "disk.img");
    execFileSync("truncate", ["-s", "32M", image]);
    execFileSync("mkfs.ext4", ["-q", "-F", image]);
    loop = execFileSync("losetup", ["--find", "--show", image], { encoding: "utf8" }).trim();
    await f.start();
    await f.rpc.call("createSandbox", { sandboxId: "storage", hostname: "storage" });
  });
  after(async () => {
    await f.rpc?.call("destroySandbox", {}).catch(() => {});
    if (loop) execFileSync("losetup", ["-d", loop]);
    await f.stop();
  });

  it("mounts a block storage once for two containers and unmounts it after the last, with the disk as a device", async () => {
    const vol = join(f.agent.dir, "vol");
    const storage = { driver: "blk", source: loop, fstype: "ext4", mountPoint: vol, options: ["rw"] };
    const devSpec = (args: string[]) => {
      const devices = [{ path: "/dev/xvdb", type: "b", major: 250n, minor: 9n }];
      return f.spec(args, { mounts: [bindInto(vol, "/data")], devices });
    };
    const device = { type: "blk", vmPath: loop, containerPath: "/dev/xvdb", id: "" };
    const writer =
      "echo hello > /data/hello; stat -c %t:%T /dev/xvdb > /out/dev; head -c 512 /dev/xvdb | wc -c > /out/devread";
    await f.rpc.call("createContainer", {
      containerId: "writer",
      OCI: devSpec(["sh", "-c", writer]),
      storages: [storage],
      devices: [device],
    });
    await f.rpc.call("createContainer", {
      containerId: "reader",
      OCI: devSpec(["sh", "-c", "cat /data/hello > /out/hello"]),
      storages: [storage],
    });
    await f.rpc.call("startContainer", { containerId: "writer" });
    assert.equal((await f.rpc.call("waitProcess", { containerId: "writer" })).status, 0);
    await f.rpc.call("removeContainer", { containerId: "writer" });
    assert.deepEqual(mountsUnder(f.agent.pid, vol), [vol], "still used by reader");
    await f.rpc.call("startContainer", { containerId: "reader" });
    assert.equal((await f.rpc.call("waitProcess", { containerId: "reader" })).status, 0);
    await f.rpc.call("removeContainer", { containerId: "reader" });
    assert.deepEqual(mountsUnder(f.agent.pid, vol), [], "the last user unmounted it");
    assert.equal(f.read("hello"), "hello");
    const rdev = execFileSync("stat", ["-c", "%t:%T", loop], { encoding: "utf8" }).trim();
    assert.equal(f.read("dev"), rdev, "the spec's device got the guest's major:minor");
    assert.equal(f.read("devread"), "512", "and the device cgroup lets the container use it");
    f.assertNoContainerLeft(["writer", "reader"]);
  });

  it("gives an rw overlay storage its own upper layer and removes it with the container", async () => {
    const lower = join(f.dir, "lower");
    mkdirSync(lower);
    writeFileSync(join(lower, "from-lower"), "lower\n");
    const ovl = join(f.agent.dir, "ovl");
    const storage = {
      driver: "overlayfs",
      source: "overlay",
      fstype: "overlay",
      mountPoint: ovl,
      options: [`lowerdir=${lower}`, "io.katacontainers.fs-opt.overlay-rw"],
    };
    const script = "cat /ovl/from-lower > /out/ovl; echo upper > /ovl/written";
    await f.rpc.call("createContainer", {
      containerId: "overlaid",
      OCI: f.spec(["sh", "-c", script], { mounts: [bindInto(ovl, "/ovl")] }),
      storages: [storage],
    });
    await f.rpc.call("startContainer", { containerId: "overlaid" });
    assert.equal((await f.rpc.call("waitProcess", { containerId: "overlaid" })).status, 0);
    assert.equal(f.read("ovl"), "lower");
    assert.ok(!existsSync(join(lower, "written")), "writes go to the upper layer");
    await f.rpc.call("removeContainer", { containerId: "overlaid" });
    assert.deepEqual(mountsUnder(f.agent.pid, ovl), []);
    f.assertNoContainerLeft(["overlaid"]);
  });

  it("refuses an unknown storage driver and a device it cannot resolve yet, leaving nothing", async () => {
    await assert.rejects(
      f.rpc.call("createContainer", {
        containerId: "baddriver",
        OCI: f.spec(["true"]),
        storages: [{ driver: "nope", source: "x", mountPoint: join(f.agent.dir, "nope") }],
      }),
      failsWith(Code.INVALID_ARGUMENT, /unknown storage driver "nope"/),
    );
    await assert.rejects(
      f.rpc.call("createContainer", {
        containerId: "pcidev",
        OCI: f.spec(["true"], { devices: [{ path: "/dev/vdb", type: "b", major: 254n, minor: 16n }] }),
        devices: [{ type: "blk", id: "1f/01", containerPath: "/dev/vdb" }],
      }),
      failsWith(Code.NOT_FOUND, /blk device "1f\/01" for \/dev\/vdb: PCI path 1f\/01: there is no bridge/),
    );
    f.assertNoContainerLeft(["baddriver", "pcidev"]);
  });
});
