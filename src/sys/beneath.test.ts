import assert from "node:assert/strict";
import {
  constants,
  existsSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  checkName,
  closeFd,
  lchownAt,
  mkdirAt,
  openBeneath,
  openTrustedDirectory,
  renameAt,
  symlinkAt,
  unlinkAt,
  withFd,
} from "./beneath.js";

describe("beneath", () => {
  let top: string;
  let root: string;
  let rootFd: number;

  before(async () => {
    top = mkdtempSync(join(tmpdir(), "berth-beneath-"));
    root = join(top, "root");
    mkdirSync(join(root, "inside"), { recursive: true });
    writeFileSync(join(top, "outside"), "secret");
    symlinkSync("/etc", join(root, "absolute"));
    symlinkSync("../..", join(root, "climbing"));
    symlinkSync("inside", join(root, "relative"));
    rootFd = await openTrustedDirectory(root, constants.O_DIRECTORY);
  });

  after(async () => {
    await closeFd(rootFd);
    rmSync(top, { recursive: true, force: true });
  });

  const opening = (path: string, options = {}) =>
    withFd(openBeneath(rootFd, path, constants.O_RDONLY, options), async () => {});

  it("opens what lies beneath, following symlinks that stay inside", async () => {
    await opening("inside");
    await opening("relative/.");
    await opening(".");
  });

  it("refuses every path that would leave the directory: EXDEV from the kernel", async () => {
    for (const path of ["..", "../outside", "inside/../../outside", top, "/etc/passwd", "absolute/passwd"]) {
      await assert.rejects(opening(path), { code: "EXDEV", syscall: "openat2" }, path);
    }
    await assert.rejects(opening("climbing/outside"), { code: "EXDEV" });
  });

  it("refuses /proc magic links", async () => {
    const self = await openTrustedDirectory("/proc/self", constants.O_DIRECTORY);
    try {
      for (const path of ["root/etc", "cwd", "exe"]) {
        await assert.rejects(
          withFd(openBeneath(self, path, 0), async () => {}),
          (error: NodeJS.ErrnoException) => ["ELOOP", "EXDEV"].includes(error.code ?? ""),
          path,
        );
      }
    } finally {
      await closeFd(self);
    }
  });

  it("refuses every symlink with noSymlinks", async () => {
    await assert.rejects(opening("relative/.", { noSymlinks: true }), { code: "ELOOP" });
  });

  it("creates a file only with O_EXCL semantics when asked, never through a symlink", async () => {
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    const fd = await openBeneath(rootFd, "inside/new", flags, { mode: 0o600, noSymlinks: true });
    try {
      writeSync(fd, "hello");
      assert.equal(fstatSync(fd).mode & 0o777, 0o600);
    } finally {
      await closeFd(fd);
    }
    assert.equal(readFileSync(join(root, "inside/new"), "utf8"), "hello");
    symlinkSync(join(top, "outside"), join(root, "inside/trap"));
    await assert.rejects(openBeneath(rootFd, "inside/trap", flags, { mode: 0o600 }), { code: "EEXIST" });
    assert.equal(readFileSync(join(top, "outside"), "utf8"), "secret");
  });

  it("mkdirAt, symlinkAt, lchownAt, renameAt and unlinkAt act on the name itself", async () => {
    await withFd(openBeneath(rootFd, "inside", constants.O_DIRECTORY), async (dir) => {
      await mkdirAt(dir, "made", 0o700);
      assert.ok(lstatSync(join(root, "inside/made")).isDirectory());
      await assert.rejects(mkdirAt(dir, "made", 0o700), { code: "EEXIST", syscall: "mkdirat" });

      await symlinkAt(join(top, "outside"), dir, "link");
      await lchownAt(dir, "link", 4242, 4343);
      const link = lstatSync(join(root, "inside/link"));
      assert.deepEqual([link.uid, link.gid], [4242, 4343]);
      assert.equal(lstatSync(join(top, "outside")).uid, 0);

      writeFileSync(join(root, "inside/tmp"), "replacement");
      await renameAt(dir, "tmp", "link");
      assert.ok(lstatSync(join(root, "inside/link")).isFile());
      assert.equal(readFileSync(join(top, "outside"), "utf8"), "secret");

      await unlinkAt(dir, "link");
      await unlinkAt(dir, "made", { directory: true });
      assert.ok(!existsSync(join(root, "inside/link")) && !existsSync(join(root, "inside/made")));
      await assert.rejects(unlinkAt(dir, "gone"), { code: "ENOENT", syscall: "unlinkat" });
    });
    assert.equal(readlinkSync(join(root, "absolute")), "/etc");
  });

  it("checkName() lets only a single file name through", async () => {
    for (const bad of ["", ".", "..", "a/b", "/a", "a\0b"]) {
      assert.throws(() => checkName(bad), /is not a single file name/, bad);
    }
    checkName("a..b");
    await assert.rejects(mkdirAt(rootFd, "../escape", 0o700), /is not a single file name/);
    assert.ok(!existsSync(join(top, "escape")));
  });
});
