import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, before, beforeEach, describe, it } from "node:test";
import { DEFAULT_PATHS } from "../../src/config/agent-paths.js";
import { AgentError, Code } from "../../src/errors.js";
import { createLogger } from "../../src/log.js";
import { OVERLAY_RW_OPTION } from "../../src/storage/overlayfs-driver.js";
import { StorageRegistry } from "../../src/storage/storage-registry.js";
import type { StorageSpec } from "../../src/storage/storage-spec.js";
import { currentMounts, mount, UnmountFlag, unmount } from "../../src/sys/mount.js";
import { mountsUnder } from "../support/leftovers.js";
import { assertOwnMountNamespace } from "../support/mount-namespace.js";

type Wire = Partial<StorageSpec> & Pick<StorageSpec, "driver" | "mountPoint">;
const spec = (s: Wire): StorageSpec => ({
  driverOptions: [],
  source: "",
  fstype: "",
  options: [],
  shared: false,
  ...s,
});
const tmpfs = (mountPoint: string, extra: Partial<StorageSpec> = {}) =>
  spec({ driver: "ephemeral", source: "tmpfs", fstype: "tmpfs", mountPoint, options: ["size=1m"], ...extra });

const failsWith = (code: Code, fragment: string) => (e: unknown) => {
  assert.ok(e instanceof AgentError, `not an AgentError: ${String(e)}`);
  assert.equal(e.code, code, e.message);
  assert.ok(e.message.includes(fragment), `${JSON.stringify(e.message)} lacks ${JSON.stringify(fragment)}`);
  return true;
};

/** The top mount at `path`, if any. */
async function mountAt(path: string) {
  return (await currentMounts()).filter((m) => m.mountPoint === path).at(-1);
}
const mountCount = async (path: string) =>
  (await currentMounts()).filter((m) => m.mountPoint === path).length;

/** Real mounts, in-process, under a fresh directory per test; the suite refuses to run in the host's mount namespace. */
describe("storage drivers", () => {
  let dir: string;
  let run: string;
  let storages: StorageRegistry;

  before(assertOwnMountNamespace);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "berth-storage-"));
    run = join(dir, "run");
    storages = new StorageRegistry({
      hotplugTimeoutMs: 200,
      paths: { ...DEFAULT_PATHS, runDir: run },
      log: createLogger({ level: "silent" }),
      sysfs: join(dir, "sys"),
    });
  });

  afterEach(async () => {
    const left = mountsUnder(process.pid, dir);
    for (const m of [...left].reverse()) await unmount(m, UnmountFlag.DETACH).catch(() => {});
    if (mountsUnder(process.pid, dir).length === 0) rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(left, [], "mounts left under the test directory");
  });

  it("local: makes the directory with mode and fsgid (setgid), removes it on release only when empty", async () => {
    const vol = join(dir, "local/vol");
    assert.deepEqual(
      await storages.add(
        [spec({ driver: "local", mountPoint: `${vol}/`, options: ["mode=0750", "fsgid=1234"] })],
        "c1",
      ),
      [vol],
    );
    const st = statSync(vol);
    assert.equal(st.mode & 0o7777, 0o2750);
    assert.equal(st.gid, 1234);
    assert.equal(await mountAt(vol), undefined);
    await storages.release([vol]);
    assert.equal(existsSync(vol), false);

    await storages.add([spec({ driver: "local", mountPoint: vol })], "c1");
    writeFileSync(join(vol, "data"), "kept");
    await storages.release([vol]);
    assert.equal(readFileSync(join(vol, "data"), "utf8"), "kept");
  });

  it("ephemeral: mounts tmpfs with its options and fsgid, and unmounts and removes it on release", async () => {
    const shm = join(dir, "sandbox/shm");
    await storages.add([tmpfs(shm, { options: ["size=1m", "fsgid=2000"] })]);
    const m = await mountAt(shm);
    assert.equal(m?.fsType, "tmpfs");
    assert.match(m?.superOptions ?? "", /size=1024k/);
    assert.equal(statSync(shm).gid, 2000);
    assert.equal(statSync(shm).mode & 0o2000, 0o2000);
    assert.deepEqual(storages.list(), [{ mountPoint: shm, driver: "ephemeral", refs: 1 }]);
    await storages.release([shm]);
    assert.equal(await mountAt(shm), undefined);
    assert.equal(existsSync(shm), false);
    assert.deepEqual(storages.list(), []);
  });

  it("ephemeral hugetlbfs: grows the hugepage pool (never shrinks it) and mounts", async () => {
    const pool = join(dir, "sys/kernel/mm/hugepages/hugepages-2048kB");
    mkdirSync(pool, { recursive: true });
    writeFileSync(join(pool, "nr_hugepages"), "0\n");
    const huge = join(dir, "hugepages");
    const options = ["pagesize=2097152", "size=4194304"];
    await storages.add(
      [spec({ driver: "ephemeral", source: "nodev", fstype: "hugetlbfs", mountPoint: huge, options })],
      "c1",
    );
    assert.equal(readFileSync(join(pool, "nr_hugepages"), "utf8"), "2");
    assert.equal((await mountAt(huge))?.fsType, "hugetlbfs");
    await storages.release([huge]);

    writeFileSync(join(pool, "nr_hugepages"), "5\n");
    await storages.add([spec({ driver: "ephemeral", fstype: "hugetlbfs", mountPoint: huge, options })], "c1");
    assert.equal(readFileSync(join(pool, "nr_hugepages"), "utf8"), "5\n");
    await storages.release([huge]);
    await assert.rejects(
      storages.add([
        spec({ driver: "ephemeral", fstype: "hugetlbfs", mountPoint: huge, options: ["size=1"] }),
      ]),
      failsWith(Code.INVALID_ARGUMENT, "needs pagesize=<bytes> and size=<bytes>"),
    );
  });

  for (const driver of ["virtio-fs", "9p"]) {
    it(`${driver}: mounts the source (tmpfs stands in for the shared filesystem), or uses it if already mounted`, async () => {
      const shared = join(dir, "shared/containers");
      await storages.add([spec({ driver, source: "kataShared", fstype: "tmpfs", mountPoint: `${shared}/` })]);
      assert.equal((await mountAt(shared))?.source, "kataShared");
      await storages.release([shared]);
      assert.equal(existsSync(shared), false);

      mkdirSync(shared, { recursive: true });
      await mount("kataShared", shared, "tmpfs", ["size=1m"]);
      await storages.add([spec({ driver, source: "kataShared", fstype: "tmpfs", mountPoint: shared })]);
      assert.equal(await mountCount(shared), 1);
      await storages.release([shared]);
      assert.equal(await mountCount(shared), 1, "the agent must not unmount what it did not mount");
      await unmount(shared);
    });
  }

  it("fsGroup Always: chgrp -R with group rw and setgid dirs, leaving symlinks and their targets alone", async () => {
    const src = join(dir, "volume");
    mkdirSync(join(src, "sub"), { recursive: true, mode: 0o700 });
    writeFileSync(join(src, "a"), "a", { mode: 0o600 });
    writeFileSync(join(src, "sub/b"), "b", { mode: 0o600 });
    const outside = join(dir, "outside");
    writeFileSync(outside, "x", { mode: 0o600 });
    symlinkSync(outside, join(src, "link"));
    const mp = join(dir, "mnt/volume");
    await storages.add(
      [
        spec({
          driver: "bind",
          source: src,
          mountPoint: mp,
          fsGroup: { groupId: 3000, groupChangePolicy: 0 },
        }),
      ],
      "c1",
    );
    for (const p of ["", "a", "sub", "sub/b"]) assert.equal(statSync(join(mp, p)).gid, 3000, p);
    assert.equal(statSync(join(mp, "a")).mode & 0o7777, 0o660);
    assert.equal(statSync(join(mp, "sub")).mode & 0o7777, 0o2770);
    assert.equal(lstatSync(join(mp, "link")).gid, 0);
    assert.deepEqual([statSync(outside).gid, statSync(outside).mode & 0o7777], [0, 0o600]);
    await storages.release([mp]);
  });

  it("fsGroup OnRootMismatch: skips the tree when the root already fits", async () => {
    const src = join(dir, "volume");
    mkdirSync(src);
    writeFileSync(join(src, "a"), "a", { mode: 0o600 });
    chownSync(src, 0, 3000);
    chmodSync(src, 0o2770);
    const mp = join(dir, "mnt");
    await storages.add([
      spec({ driver: "bind", source: src, mountPoint: mp, fsGroup: { groupId: 3000, groupChangePolicy: 1 } }),
    ]);
    assert.deepEqual([statSync(join(mp, "a")).gid, statSync(join(mp, "a")).mode & 0o7777], [0, 0o600]);
    await storages.release([mp]);
  });

  it("bind: binds a directory read-only and a file on a created file, removing what it created", async () => {
    const srcDir = join(dir, "src");
    mkdirSync(srcDir);
    const mp = join(dir, "bound/dir");
    await storages.add([spec({ driver: "bind", source: srcDir, mountPoint: mp, options: ["ro"] })]);
    assert.throws(() => writeFileSync(join(mp, "x"), "x"), { code: "EROFS" });
    await storages.release([mp]);
    assert.equal(existsSync(mp), false);

    const srcFile = join(dir, "hosts");
    writeFileSync(srcFile, "127.0.0.1 localhost\n");
    const target = join(dir, "etc/hosts");
    await storages.add([spec({ driver: "bind", source: srcFile, mountPoint: target })]);
    assert.equal(readFileSync(target, "utf8"), "127.0.0.1 localhost\n");
    await storages.release([target]);
    assert.deepEqual([existsSync(target), existsSync(join(dir, "etc"))], [false, false]);

    await assert.rejects(
      storages.add([spec({ driver: "bind", source: "rel/dir", mountPoint: mp })]),
      failsWith(Code.INVALID_ARGUMENT, '"rel/dir" is not an absolute path'),
    );
    await assert.rejects(
      storages.add([spec({ driver: "bind", source: join(dir, "nope"), mountPoint: mp })]),
      failsWith(Code.NOT_FOUND, "does not exist"),
    );
    assert.equal(existsSync(mp), false);
  });

  it("blk, mmioblk, scsi, nvdimm: mount an ext4 loop device given by its /dev path", async () => {
    const image = join(dir, "disk.img");
    execFileSync("truncate", ["-s", "16M", image]);
    const device = execFileSync("losetup", ["--find", "--show", image], { encoding: "utf8" }).trim();
    try {
      execFileSync("mkfs.ext4", ["-q", device]);
      const mp = join(dir, "disk");
      for (const driver of ["blk", "mmioblk", "scsi", "nvdimm"]) {
        await storages.add(
          [spec({ driver, source: device, fstype: "ext4", mountPoint: mp, options: ["noatime"] })],
          "c1",
        );
        const m = await mountAt(mp);
        assert.deepEqual([m?.fsType, m?.source], ["ext4", device], driver);
        writeFileSync(join(mp, driver), driver);
        await storages.release([mp]);
        assert.equal(existsSync(mp), false, driver);
      }
    } finally {
      for (const m of mountsUnder(process.pid, dir).reverse())
        await unmount(m, UnmountFlag.DETACH).catch(() => {});
      execFileSync("losetup", ["-d", device]);
    }
  });

  it("blk and friends: refuse malformed addresses, disks that never come, and non-block devices", async () => {
    const mp = join(dir, "disk");
    const cases: [string, string, Code, string][] = [
      ["blk", "02/1x", Code.INVALID_ARGUMENT, "the source must be a PCI path or a /dev path"],
      [
        "blk",
        "1f/1f/01",
        Code.NOT_FOUND,
        "PCI path 1f/1f/01: there is no bridge at /devices/pci0000:00/0000:00:1f.0",
      ],
      ["scsi", "0:0", Code.DEADLINE_EXCEEDED, "timed out after 200 ms waiting for the SCSI disk at 0:0"],
      ["scsi", "zero", Code.INVALID_ARGUMENT, 'SCSI address "zero" is not <target>:<lun>'],
      ["nvdimm", "pmem0", Code.INVALID_ARGUMENT, "the source must be a /dev/pmem path"],
      ["nvdimm", "/dev/pmem9", Code.DEADLINE_EXCEEDED, "waiting for the pmem device pmem9"],
      ["blk", "/dev/null", Code.INVALID_ARGUMENT, "/dev/null is not a block device"],
      ["blk", "/dev/berth-missing", Code.NOT_FOUND, "does not exist"],
      ["blk", "/dev/../etc/passwd", Code.INVALID_ARGUMENT, 'has a ".." segment'],
    ];
    for (const [driver, source, code, fragment] of cases) {
      await assert.rejects(
        storages.add([spec({ driver, source, fstype: "ext4", mountPoint: mp })]),
        failsWith(code, fragment),
      );
    }
    assert.equal(existsSync(mp), false);
  });

  it("overlayfs rw: makes upper and work under <runDir>/<cid>/ and removes them on release", async () => {
    const lower = join(dir, "lower");
    mkdirSync(lower);
    writeFileSync(join(lower, "base"), "base");
    const merged = join(dir, "c1/rootfs");
    const options = [`lowerdir=${lower}`, OVERLAY_RW_OPTION];
    await storages.add(
      [spec({ driver: "overlayfs", source: "overlay", fstype: "overlay", mountPoint: merged, options })],
      "c1",
    );
    assert.equal((await mountAt(merged))?.fsType, "overlay");
    writeFileSync(join(merged, "new"), "new");
    assert.equal(readFileSync(join(run, "c1/upper/new"), "utf8"), "new");
    assert.equal(readFileSync(join(merged, "base"), "utf8"), "base");
    assert.deepEqual(readdirSync(join(run, "c1")).sort(), ["upper", "work"]);
    await storages.release([merged]);
    assert.deepEqual([existsSync(merged), existsSync(join(run, "c1"))], [false, false]);
    assert.deepEqual(readdirSync(lower), ["base"]);

    await assert.rejects(
      storages.add([spec({ driver: "overlayfs", fstype: "overlay", mountPoint: merged, options })]),
      failsWith(Code.INVALID_ARGUMENT, "needs a container"),
    );
    assert.deepEqual([existsSync(merged), readdirSync(run)], [false, []]);
  });

  it("overlayfs without rw: a read-only union of the lower directories", async () => {
    const [a, b] = [join(dir, "a"), join(dir, "b")];
    mkdirSync(a);
    mkdirSync(b);
    writeFileSync(join(a, "fa"), "a");
    writeFileSync(join(b, "fb"), "b");
    const merged = join(dir, "merged");
    await storages.add(
      [spec({ driver: "overlayfs", fstype: "overlay", mountPoint: merged, options: [`lowerdir=${a}:${b}`] })],
      "c1",
    );
    assert.deepEqual(readdirSync(merged).sort(), ["fa", "fb"]);
    assert.throws(() => writeFileSync(join(merged, "x"), "x"), { code: "EROFS" });
    await storages.release([merged]);
    await assert.rejects(
      storages.add([
        spec({ driver: "overlayfs", fstype: "overlay", mountPoint: merged, options: ["lowerdir=lower"] }),
      ]),
      failsWith(Code.INVALID_ARGUMENT, 'overlay lowerdir "lower" is not an absolute path'),
    );
  });

  it("mounts through a symlinked parent (as /var/run) and unmounts the same place", async () => {
    const real = join(dir, "real");
    mkdirSync(real);
    symlinkSync(real, join(dir, "link"));
    const mp = join(dir, "link/vol");
    await storages.add([tmpfs(mp)]);
    assert.equal(await mountCount(join(real, "vol")), 1);
    await storages.release([mp]);
    assert.deepEqual([await mountCount(join(real, "vol")), existsSync(join(real, "vol"))], [0, false]);
  });

  it("counts users of one mount point: the first release keeps it, the last unmounts and removes it", async () => {
    const mp = join(dir, "shared-vol");
    const [first] = await storages.add([tmpfs(mp)], "c1");
    const [second] = await storages.add([tmpfs(mp)], "c2");
    assert.deepEqual(storages.list(), [{ mountPoint: mp, driver: "ephemeral", refs: 2 }]);
    await storages.release([first ?? ""]);
    assert.equal(await mountCount(mp), 1);
    await storages.release([second ?? ""]);
    assert.deepEqual([await mountCount(mp), existsSync(mp)], [0, false]);
  });

  it("serialises concurrent adds of one mount point: one mount, two references", async () => {
    const mp = join(dir, "racy");
    const results = await Promise.all(["c1", "c2", "c3"].map((cid) => storages.add([tmpfs(mp)], cid)));
    assert.deepEqual(results, [[mp], [mp], [mp]]);
    assert.equal(await mountCount(mp), 1);
    assert.equal(storages.list()[0]?.refs, 3);
    await Promise.all(results.map((r) => storages.release(r)));
    assert.equal(await mountCount(mp), 0);
  });

  it("keeps a shared storage past its last release, until releaseAll()", async () => {
    const shared = join(dir, "shared");
    const plain = join(dir, "plain");
    const mps = await storages.add([tmpfs(shared, { shared: true }), tmpfs(plain)]);
    await storages.release(mps);
    assert.deepEqual(storages.list(), [{ mountPoint: shared, driver: "ephemeral", refs: 0 }]);
    assert.equal(await mountCount(shared), 1);
    await storages.add([tmpfs(plain)], "c1");
    await storages.releaseAll();
    assert.deepEqual(
      [storages.list(), await mountCount(shared), existsSync(shared), existsSync(plain)],
      [[], 0, false, false],
    );
  });

  it("rejects an unknown driver, naming the known ones, before setting anything up", async () => {
    const mp = join(dir, "first");
    await assert.rejects(
      storages.add([tmpfs(mp), spec({ driver: "nfs", mountPoint: join(dir, "x") })]),
      failsWith(
        Code.INVALID_ARGUMENT,
        'unknown storage driver "nfs" (known: 9p, bind, blk, ephemeral, local',
      ),
    );
    assert.equal(existsSync(mp), false);
  });

  it("rolls back a partly done add(): storages it set up go, ones it only counted keep their users", async () => {
    const kept = join(dir, "kept");
    await storages.add([tmpfs(kept)], "c1");
    const fresh = join(dir, "fresh");
    const bad = spec({ driver: "blk", source: "/dev/null", fstype: "ext4", mountPoint: join(dir, "bad") });
    await assert.rejects(
      storages.add([tmpfs(kept), tmpfs(fresh, { shared: true }), bad], "c2"),
      failsWith(Code.INVALID_ARGUMENT, "not a block device"),
    );
    assert.deepEqual(storages.list(), [{ mountPoint: kept, driver: "ephemeral", refs: 1 }]);
    assert.deepEqual(
      [existsSync(fresh), existsSync(join(dir, "bad")), await mountCount(kept)],
      [false, false, 1],
    );
    await storages.release([kept]);
  });

  it("validates mount points and container ids, quoting the value", async () => {
    const cases: [StorageSpec, string | undefined, string][] = [
      [tmpfs("relative/mp"), undefined, 'mount point "relative/mp" is not an absolute path'],
      [tmpfs(`${dir}/a/../b`), undefined, 'has a ".." segment'],
      [tmpfs(`${dir}/a\0b`), undefined, "contains a NUL byte"],
      [
        tmpfs(`${dir}/ok`, { options: ["size=1m\0"] }),
        undefined,
        'option "size=1m\\u0000" contains a NUL byte',
      ],
      [tmpfs(`${dir}/ok`), "../c1", 'container id "../c1"'],
      [tmpfs(`${dir}/ok`), "a/b", 'container id "a/b"'],
    ];
    for (const [storage, cid, fragment] of cases) {
      await assert.rejects(storages.add([storage], cid), failsWith(Code.INVALID_ARGUMENT, fragment));
    }
    assert.deepEqual(readdirSync(dir), []);
  });

  it("release() runs every step, then reports each failure", async () => {
    const mp = join(dir, "vol");
    await storages.add([tmpfs(mp)]);
    await assert.rejects(
      storages.release([mp, "/berth/nowhere"]),
      failsWith(Code.NOT_FOUND, '"/berth/nowhere"'),
    );
    assert.equal(await mountCount(mp), 0);
    await assert.rejects(
      storages.release(["/x", "rel"]),
      (e: unknown) =>
        e instanceof AgentError &&
        e.code === Code.INTERNAL &&
        e.message.includes('"/x"') &&
        e.message.includes('"rel"'),
    );
  });
});
