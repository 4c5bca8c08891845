import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { VolumeUsage_Unit } from "../../src/protocol/gen/csi_pb.js";
import { Code, codeName } from "../../src/protocol/ttrpc/code.js";
import { TtrpcError } from "../../src/protocol/ttrpc/status.js";
import { parseMountinfo } from "../../src/sys/mountinfo.js";
import { type AgentProcess, startAgent } from "../support/agent-process.js";
import { AgentRpc } from "../support/agent-rpc.js";

const MiB = 1024 * 1024;

/** ext4's online resize needs CAP_SYS_RESOURCE (xfs's only CAP_SYS_ADMIN), which some test machines drop. */
const CAN_GROW_EXT4 = (() => {
  const bounding = /CapBnd:\s+([0-9a-f]+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? "0";
  return ((BigInt(`0x${bounding}`) >> 24n) & 1n) === 1n;
})();

const refused = (code: Code, fragment: string) => (e: unknown) => {
  assert.ok(e instanceof TtrpcError, `not a TtrpcError: ${String(e)}`);
  assert.equal(codeName(e.code), codeName(code), e.message);
  assert.ok(e.message.includes(fragment), `${JSON.stringify(e.message)} lacks ${JSON.stringify(fragment)}`);
  return true;
};

interface Disk {
  image: string;
  loop: string;
  mountPoint: string;
}

/**
 * GetVolumeStats, ResizeVolume, UpdateEphemeralMounts and RemoveStaleVirtiofsShareMounts through a real
 * agent, on storages it mounted for the sandbox: ext4, xfs and squashfs on loop devices, and two tmpfs. The
 * agent has its own mount namespace, so its mounts end with it; the loop devices are detached after.
 */
describe("volume calls on the storages the agent mounted", () => {
  const dir = mkdtempSync(join(tmpdir(), "berth-volumes-"));
  const loops: string[] = [];
  const disks: Record<"ext4" | "xfs" | "squashfs", Disk> = {} as never;
  let agent: AgentProcess;
  let rpc: AgentRpc;
  let ephemeral: { e1: string; e2: string };

  /** A command in the agent's mount namespace, where its storages are. */
  const inAgent = (argv: string[]) =>
    execFileSync("nsenter", ["-t", String(agent.pid), "-m", ...argv], { encoding: "utf8" });
  const topMount = (path: string) =>
    parseMountinfo(readFileSync(`/proc/${agent.pid}/mountinfo`, "utf8"))
      .filter((m) => m.mountPoint === path)
      .at(-1);
  const totalBytes = async (path: string) =>
    (await rpc.call("getVolumeStats", { volumeGuestPath: path })).usage[0]?.total ?? 0n;

  /** A loop device on an image `make` writes. */
  function disk(fsType: keyof typeof disks, make: (image: string) => void): void {
    const image = join(dir, `${fsType}.img`);
    make(image);
    const loop = execFileSync("losetup", ["--find", "--show", image], { encoding: "utf8" }).trim();
    loops.push(loop);
    disks[fsType] = { image, loop, mountPoint: "" };
  }
  const formatted = (bytes: number, mkfs: string[]) => (image: string) => {
    execFileSync("truncate", ["-s", String(bytes), image]);
    execFileSync(mkfs[0] ?? "", [...mkfs.slice(1), image]);
  };

  function grow(d: Disk, bytes: number): void {
    execFileSync("truncate", ["-s", String(bytes), d.image]);
    execFileSync("losetup", ["-c", d.loop]);
  }

  before(async () => {
    disk("ext4", formatted(32 * MiB, ["mkfs.ext4", "-q", "-F"]));
    disk("xfs", formatted(320 * MiB, ["mkfs.xfs", "-q", "-f"]));
    disk("squashfs", (image) => {
      const content = join(dir, "squashfs.d");
      mkdirSync(content);
      writeFileSync(join(content, "hello"), "read-only\n");
      execFileSync("mksquashfs", [content, image, "-quiet", "-noappend", "-no-progress"]);
    });
    agent = await startAgent();
    rpc = await AgentRpc.connect(agent.socketPath);
    for (const d of Object.entries(disks)) d[1].mountPoint = join(agent.dir, `vol-${d[0]}`);
    ephemeral = { e1: join(agent.dir, "ephemeral/e1"), e2: join(agent.dir, "ephemeral/e2") };
    const tmpfs = (mountPoint: string) => ({
      driver: "ephemeral",
      source: "tmpfs",
      fstype: "tmpfs",
      mountPoint,
      options: ["nosuid", "nodev", "size=10M"],
    });
    await rpc.call("createSandbox", {
      sandboxId: "volumes",
      hostname: "volumes",
      storages: [
        ...Object.entries(disks).map(([fstype, d]) => ({
          driver: "blk",
          source: d.loop,
          fstype,
          mountPoint: d.mountPoint,
          options: fstype === "squashfs" ? ["ro"] : [],
        })),
        tmpfs(ephemeral.e1),
        tmpfs(ephemeral.e2),
      ],
    });
  });

  after(async () => {
    await rpc?.call("destroySandbox", {}).catch(() => {});
    rpc?.close();
    await agent?.stop();
    for (const loop of loops) execFileSync("losetup", ["-d", loop]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("GetVolumeStats answers an ext4 volume's bytes (available without root's reserve) and inodes, as df does", async () => {
    const { mountPoint } = disks.ext4;
    const reply = await rpc.call("getVolumeStats", { volumeGuestPath: mountPoint });
    const [bsize, blocks, bfree, bavail, files, ffree] = inAgent([
      "stat",
      "-f",
      "-c",
      "%S %b %f %a %c %d",
      mountPoint,
    ])
      .trim()
      .split(" ")
      .map(BigInt) as [bigint, bigint, bigint, bigint, bigint, bigint];
    assert.deepEqual(
      reply.usage.map(({ unit, total, available, used }) => ({ unit, total, available, used })),
      [
        {
          unit: VolumeUsage_Unit.BYTES,
          total: blocks * bsize,
          available: bavail * bsize,
          used: (blocks - bfree) * bsize,
        },
        { unit: VolumeUsage_Unit.INODES, total: files, available: ffree, used: files - ffree },
      ],
    );
    assert.deepEqual(
      { abnormal: reply.volumeCondition?.abnormal, message: reply.volumeCondition?.message },
      { abnormal: false, message: "OK" },
    );
    const df = inAgent(["df", "-B1", "--output=size,used,avail", mountPoint]).trim().split("\n")[1] ?? "";
    const bytes = reply.usage[0];
    assert.deepEqual(df.trim().split(/\s+/).map(BigInt), [bytes?.total, bytes?.used, bytes?.available]);
    assert.ok(
      (bytes?.available ?? 0n) < (bytes?.total ?? 0n) - (bytes?.used ?? 0n),
      "ext4's 5% reserve is not available",
    );
  });

  for (const [fsType, from, to] of [
    ["ext4", 32, 64],
    ["xfs", 320, 400],
  ] as const) {
    const skip = fsType === "ext4" && !CAN_GROW_EXT4 && "this machine's bounding set lacks CAP_SYS_RESOURCE";
    it(`ResizeVolume grows ${fsType} online to its grown disk, and refuses a size the disk does not have`, {
      skip,
    }, async () => {
      const d = disks[fsType];
      const before = await totalBytes(d.mountPoint);
      assert.ok(before <= BigInt(from * MiB));
      grow(d, to * MiB);
      await assert.rejects(
        rpc.call("resizeVolume", { volumeGuestPath: d.mountPoint, size: BigInt((to + 1) * MiB) }),
        refused(
          Code.FAILED_PRECONDITION,
          `${d.loop} holds ${to * MiB} bytes, less than the ${(to + 1) * MiB} asked for`,
        ),
      );
      assert.equal(await totalBytes(d.mountPoint), before);
      await rpc.call("resizeVolume", { volumeGuestPath: d.mountPoint, size: BigInt(to * MiB) });
      const after = await totalBytes(d.mountPoint);
      // What the filesystem keeps for itself (xfs's log, ext4's inode tables) is not in its total.
      assert.ok(after - before >= BigInt(((to - from) * MiB * 3) / 4), `${before} → ${after}`);
      await rpc.call("resizeVolume", { volumeGuestPath: d.mountPoint, size: 0n });
      assert.equal(await totalBytes(d.mountPoint), after, "a second resize to the same disk changes nothing");
    });
  }

  it("ResizeVolume passes on resize2fs's reason when the kernel refuses to grow ext4", {
    skip: CAN_GROW_EXT4,
  }, async () => {
    const d = disks.ext4;
    grow(d, 64 * MiB);
    await assert.rejects(
      rpc.call("resizeVolume", { volumeGuestPath: d.mountPoint, size: BigInt(64 * MiB) }),
      refused(Code.INTERNAL, `volume "${d.mountPoint}": resize2fs ${d.loop}: exited with 1`),
    );
  });

  it("ResizeVolume refuses squashfs and tmpfs with FAILED_PRECONDITION naming them", async () => {
    for (const [path, type] of [
      [disks.squashfs.mountPoint, "squashfs"],
      [ephemeral.e2, "tmpfs"],
    ] as const) {
      await assert.rejects(
        rpc.call("resizeVolume", { volumeGuestPath: path, size: 0n }),
        refused(
          Code.FAILED_PRECONDITION,
          `volume "${path}": cannot grow a "${type}" filesystem online (berth grows ext2, ext3, ext4, xfs)`,
        ),
      );
    }
  });

  it("GetVolumeStats and ResizeVolume take only a storage's mount point: no other path, no symlink out", async () => {
    const { mountPoint } = disks.ext4;
    const toRoot = join(agent.dir, "to-root");
    const toVolume = join(agent.dir, "to-volume");
    symlinkSync("/", toRoot);
    symlinkSync(mountPoint, toVolume);
    const cases: [string, Code, string][] = [
      ["vol-ext4", Code.INVALID_ARGUMENT, 'volume path "vol-ext4" is not an absolute path'],
      ["", Code.INVALID_ARGUMENT, "is not an absolute path"],
      [`${mountPoint}/..`, Code.INVALID_ARGUMENT, 'has a ".." segment'],
      [agent.dir, Code.NOT_FOUND, `no storage berth set up is at "${agent.dir}"`],
      [`${mountPoint}/lost+found`, Code.NOT_FOUND, "no storage berth set up is at"],
      [toRoot, Code.NOT_FOUND, 'no storage berth set up is at "/"'],
      [join(agent.dir, "missing"), Code.NOT_FOUND, "nothing is there"],
    ];
    for (const [path, code, fragment] of cases) {
      await assert.rejects(
        rpc.call("getVolumeStats", { volumeGuestPath: path }),
        refused(code, fragment),
        path,
      );
      await assert.rejects(
        rpc.call("resizeVolume", { volumeGuestPath: path, size: 0n }),
        refused(code, fragment),
        path,
      );
    }
    assert.equal(
      await totalBytes(toVolume),
      await totalBytes(mountPoint),
      "a symlink to a volume names that volume",
    );
  });

  it("UpdateEphemeralMounts remounts a tmpfs storage with its new size, keeping its nosuid and nodev", async () => {
    const { e1 } = ephemeral;
    assert.match(topMount(e1)?.superOptions ?? "", /size=10240k/);
    await rpc.call("updateEphemeralMounts", {
      storages: [
        {
          driver: "ephemeral",
          source: "tmpfs",
          fstype: "tmpfs",
          mountPoint: e1,
          options: ["remount", "size=20M", "fsgid=0"],
        },
      ],
    });
    const m = topMount(e1);
    assert.match(m?.superOptions ?? "", /size=20480k/);
    assert.deepEqual(
      m?.options.split(",").filter((o) => o === "nosuid" || o === "nodev"),
      ["nosuid", "nodev"],
    );
    assert.match(inAgent(["findmnt", "-no", "OPTIONS", e1]), /nosuid,nodev.*size=20480k/);
  });

  it("UpdateEphemeralMounts refuses other drivers, storages and paths, and is all or nothing", async () => {
    const { e1, e2 } = ephemeral;
    const entry = (mountPoint: string, size: string, driver = "ephemeral") => ({
      driver,
      source: "tmpfs",
      fstype: "tmpfs",
      mountPoint,
      options: ["remount", `size=${size}`],
    });
    const elsewhere = join(agent.dir, "elsewhere");
    mkdirSync(elsewhere);
    const cases: [ReturnType<typeof entry>[], Code, string][] = [
      [
        [entry(e1, "30M"), entry(e2, "30M", "local")],
        Code.INVALID_ARGUMENT,
        "Unsupported storage type for syncing mounts local",
      ],
      [
        [entry(e1, "30M"), entry(disks.ext4.mountPoint, "30M")],
        Code.INVALID_ARGUMENT,
        "it is a blk storage, not an ephemeral one",
      ],
      [
        [entry(e1, "30M"), entry(elsewhere, "30M")],
        Code.NOT_FOUND,
        `no storage berth set up is at "${elsewhere}"`,
      ],
      [[entry(e1, "30M"), entry(join(agent.dir, "ephemeral/e3"), "30M")], Code.NOT_FOUND, "nothing is there"],
      [[entry(e1, "30M"), entry(e2, "lots")], Code.INVALID_ARGUMENT, 'not "size=lots"'],
    ];
    for (const [storages, code, fragment] of cases) {
      await assert.rejects(
        rpc.call("updateEphemeralMounts", { storages }),
        refused(code, fragment),
        fragment,
      );
      assert.match(topMount(e1)?.superOptions ?? "", /size=20480k/, `${fragment}: e1 was remounted`);
    }
    // e2 holds more than the new size: its remount fails after e1's, which is put back.
    inAgent(["dd", "if=/dev/zero", `of=${e2}/fill`, "bs=1M", "count=2", "status=none"]);
    await assert.rejects(
      rpc.call("updateEphemeralMounts", { storages: [entry(e1, "30M"), entry(e2, "1M")] }),
      refused(Code.INVALID_ARGUMENT, "UpdateEphemeralMounts, 1 of 1 done before it undone: cannot mount"),
    );
    assert.match(topMount(e1)?.superOptions ?? "", /size=20480k/);
    assert.match(topMount(e2)?.superOptions ?? "", /size=10240k/);
    assert.ok(topMount(e1)?.options.includes("nosuid"));
  });

  it("RemoveStaleVirtiofsShareMounts answers OK with no mount under the shared directory, and with some, which it stats", async () => {
    const shared = join(agent.dir, "run/shared/containers");
    /** The median round trip of ten calls, in ms. */
    const timed = async () => {
      const times: number[] = [];
      for (let i = 0; i < 10; i++) {
        const started = process.hrtime.bigint();
        await rpc.call("removeStaleVirtiofsShareMounts", {});
        times.push(Number(process.hrtime.bigint() - started) / 1e6);
      }
      return times.sort((a, b) => a - b)[5] ?? Number.NaN;
    };
    const none = await timed();
    const source = join(dir, "share-source");
    mkdirSync(source);
    for (const name of ["c1/rootfs", "c2-volume"]) {
      inAgent(["mkdir", "-p", join(shared, name)]);
      inAgent(["mount", "--bind", source, join(shared, name)]);
    }
    const some = await timed();
    const line = await agent.waitForLog((l) => l.msg === "shared mounts refreshed");
    assert.equal(line.count, 2);
    console.log(
      `RemoveStaleVirtiofsShareMounts round trip (median of 10): ${none.toFixed(2)} ms with no mount, ${some.toFixed(2)} ms with 2`,
    );
  });
});
