import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import {
  closeSync,
  constants,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, beforeEach, describe, it } from "node:test";
import { Code } from "../../src/protocol/ttrpc/code.js";
import { TtrpcError } from "../../src/protocol/ttrpc/status.js";
import { failsWith } from "../support/container-fixture.js";
import { copyFileFixture, tree } from "../support/copy-file-fixture.js";

const { S_IFDIR, S_IFLNK } = constants;

describe("CopyFile stays in the shared directory", () => {
  const f = copyFileFixture();
  const { copy, upload } = f;
  const escapeName = `berth-escape-${randomBytes(6).toString("hex")}`;

  describe("refuses every way out of the shared directory, leaving nothing outside", () => {
    const refusals: [string, () => Promise<unknown>, Code, RegExp][] = [];
    const refuses = (name: string, code: Code, message: RegExp, attempt: () => Promise<unknown>) => {
      refusals.push([name, attempt, code, message]);
    };
    const file = (path: string) => copy({ path, fileSize: 4n, data: Buffer.from("evil") });
    const directory = (path: string) => copy({ path, fileMode: S_IFDIR | 0o777 });
    const link = (path: string) => copy({ path, fileMode: S_IFLNK | 0o777, data: Buffer.from("x") });
    const out = (...parts: string[]) => join("..", "..", "..", "..", "..", "..", "..", "..", ...parts);

    refuses("an absolute path outside", Code.INVALID_ARGUMENT, /must name something inside/, () =>
      file(join(f.outside, "evil")),
    );
    refuses("a sibling of the shared directory", Code.INVALID_ARGUMENT, /must name something inside/, () =>
      file(`${f.shared}-evil/x`),
    );
    refuses("`..` components", Code.INVALID_ARGUMENT, /must not contain '\.\.'/, () =>
      file(`${f.shared}/c1/../../../../outside/evil`),
    );
    for (const kind of ["file", "directory", "symlink"] as const) {
      const write = { file, directory, symlink: link }[kind];
      refuses(
        `a ${kind} through a symlink planted on disk`,
        Code.PERMISSION_DENIED,
        /refused, the path leads out/,
        () => write(join(f.shared, "planted-abs", "evil")),
      );
      refuses(
        `a ${kind} through a relative symlink that climbs out`,
        Code.PERMISSION_DENIED,
        /leads out/,
        () => write(join(f.shared, "planted-rel", "evil")),
      );
      refuses(
        `a ${kind} through a symlink an earlier CopyFile made`,
        Code.PERMISSION_DENIED,
        /leads out/,
        () => write(join(f.shared, "by-rpc", "deeper", "evil")),
      );
      refuses(`a ${kind} through /proc/self/root`, Code.PERMISSION_DENIED, /leads out/, () =>
        write(join(f.shared, "magic", "tmp", escapeName)),
      );
      refuses(
        `a ${kind} through /proc/self/cwd, reached relatively`,
        Code.PERMISSION_DENIED,
        /leads out/,
        () => write(join(f.shared, "magic-rel", escapeName)),
      );
    }

    before(async () => {
      symlinkSync(f.outside, join(f.shared, "planted-abs"));
      symlinkSync(join("..", "..", "..", "outside"), join(f.shared, "planted-rel"));
      assert.equal(readFileSync(join(f.shared, "planted-rel", "sentinel"), "utf8"), "untouched");
      await copy({ path: join(f.shared, "by-rpc"), fileMode: S_IFLNK | 0o777, data: Buffer.from(f.outside) });
      await copy({
        path: join(f.shared, "magic"),
        fileMode: S_IFLNK | 0o777,
        data: Buffer.from("/proc/self/root"),
      });
      const magicRel = Buffer.from(out("proc", "self", "cwd"));
      await copy({ path: join(f.shared, "magic-rel"), fileMode: S_IFLNK | 0o777, data: magicRel });
    });

    it("each attempt fails with a clear error", async () => {
      for (const [name, attempt, code, message] of refusals) {
        await assert.rejects(attempt(), failsWith(code, message), name);
      }
      assert.deepEqual(tree(f.outside), ["sentinel file"]);
      assert.equal(readFileSync(join(f.outside, "sentinel"), "utf8"), "untouched");
      assert.ok(!existsSync(join(tmpdir(), escapeName)) && !existsSync(join("/", escapeName)));
    });

    it("a symlink as the last component is replaced, never written through", async () => {
      const target = join(f.outside, "sentinel");
      symlinkSync(target, join(f.shared, "last-file"));
      await upload(join(f.shared, "last-file"), Buffer.from("new content"), 4);
      assert.ok(lstatSync(join(f.shared, "last-file")).isFile());
      assert.equal(readFileSync(join(f.shared, "last-file"), "utf8"), "new content");

      symlinkSync(f.outside, join(f.shared, "last-dir"));
      await copy({ path: join(f.shared, "last-dir"), fileMode: S_IFDIR | 0o700, uid: 99 });
      assert.ok(lstatSync(join(f.shared, "last-dir")).isDirectory());

      symlinkSync(target, join(f.shared, "last-link"));
      await copy({
        path: join(f.shared, "last-link"),
        fileMode: S_IFLNK | 0o777,
        data: Buffer.from("harmless"),
      });
      assert.equal(readlinkSync(join(f.shared, "last-link")), "harmless");

      assert.equal(readFileSync(target, "utf8"), "untouched");
      const st = statSync(f.outside);
      assert.deepEqual([st.uid, st.mode & 0o7777], [0, 0o755]);
      assert.deepEqual(tree(f.outside), ["sentinel file"]);
    });
  });

  describe("entries planted in the shared directory are replaced, never written through or opened", () => {
    const partial = (dir: string) => readdirSync(dir).filter((n) => n.startsWith(".berth-copy-"));
    const linked = () => join(f.outside, "linked");

    beforeEach(() => {
      rmSync(linked(), { force: true });
      writeFileSync(linked(), "outside content");
    });

    it("a hard link to a file outside, at the target of a file, directory or symlink", async () => {
      for (const [name, write] of [
        ["hl-file", (path: string) => upload(path, Buffer.from("new content"), 4)],
        ["hl-dir", (path: string) => copy({ path, fileMode: S_IFDIR | 0o700, uid: 99 })],
        ["hl-link", (path: string) => copy({ path, fileMode: S_IFLNK | 0o777, data: Buffer.from("x") })],
      ] as const) {
        linkSync(linked(), join(f.shared, name));
        await write(join(f.shared, name));
        assert.equal(statSync(linked()).nlink, 1, name);
      }
      assert.equal(readFileSync(join(f.shared, "hl-file"), "utf8"), "new content");
      assert.ok(lstatSync(join(f.shared, "hl-dir")).isDirectory());
      assert.equal(readlinkSync(join(f.shared, "hl-link")), "x");
      const st = statSync(linked());
      assert.deepEqual(
        [readFileSync(linked(), "utf8"), st.uid, st.mode & 0o7777],
        ["outside content", 0, 0o644],
      );
    });

    it("a FIFO or device node at the target, or in a parent's place, never blocks a call", async () => {
      for (const kind of ["file", "dir", "link"] as const) {
        execFileSync("mkfifo", [join(f.shared, `fifo-${kind}`)]);
        execFileSync("mknod", [join(f.shared, `dev-${kind}`), "c", "1", "3"]);
      }
      for (const node of ["fifo", "dev"]) {
        await upload(join(f.shared, `${node}-file`), Buffer.from("file"), 2);
        await copy({ path: join(f.shared, `${node}-dir`), fileMode: S_IFDIR | 0o755 });
        await copy({
          path: join(f.shared, `${node}-link`),
          fileMode: S_IFLNK | 0o777,
          data: Buffer.from("x"),
        });
        assert.ok(statSync(join(f.shared, `${node}-file`)).isFile(), node);
        assert.ok(statSync(join(f.shared, `${node}-dir`)).isDirectory(), node);
        assert.ok(lstatSync(join(f.shared, `${node}-link`)).isSymbolicLink(), node);
      }
      execFileSync("mkfifo", [join(f.shared, "fifo-parent")]);
      await assert.rejects(
        copy({ path: join(f.shared, "fifo-parent/x"), fileSize: 1n, data: Buffer.from("x") }, 5000),
        failsWith(Code.INVALID_ARGUMENT, /Not a directory/),
      );
      assert.ok(lstatSync(join(f.shared, "fifo-parent")).isFIFO());
      assert.deepEqual(
        f.agent.logs.filter((l) => l.msg === "cannot remove a partial CopyFile upload"),
        [],
        "no partial file was made, so there is none to remove",
      );
    });

    it("a FIFO put in place of the partial file between chunks fails the next chunk at once (ABORTED)", async () => {
      const dir = join(f.shared, "swapped-fifo");
      const chunk = (offset: number) =>
        copy({ path: join(dir, "f"), fileSize: 4n, offset: BigInt(offset), data: Buffer.from("01") }, 5000);
      await chunk(0);
      const [temporary] = partial(dir);
      rmSync(join(dir, temporary as string));
      execFileSync("mkfifo", [join(dir, temporary as string)]);
      try {
        await assert.rejects(chunk(2), failsWith(Code.ABORTED, /replaced or changed by someone else/));
      } finally {
        // Lets go of a writer blocked in open(), so the agent can stop.
        if (existsSync(join(dir, temporary as string))) {
          closeSync(openSync(join(dir, temporary as string), constants.O_RDONLY | constants.O_NONBLOCK));
        }
      }
      assert.deepEqual([existsSync(join(dir, "f")), partial(dir)], [false, []]);
    });

    it("a hard link to a file outside put in place of the partial file: ABORTED, the file untouched", async () => {
      const dir = join(f.shared, "swapped-link");
      await assert.rejects(
        upload(join(dir, "f"), Buffer.from("0123"), 2, {}, () => {
          const [temporary] = partial(dir);
          rmSync(join(dir, temporary as string));
          linkSync(linked(), join(dir, temporary as string));
        }),
        failsWith(Code.ABORTED, /replaced or changed by someone else/),
      );
      assert.deepEqual([readFileSync(linked(), "utf8"), statSync(linked()).nlink], ["outside content", 1]);
      assert.deepEqual(partial(dir), []);
    });
  });

  it("a parent exchanged again and again with a symlink to outside while copies run: nothing lands outside", async (t) => {
    const race = join(f.shared, "race");
    const evil = join(f.shared, "race-evil");
    mkdirSync(race);
    symlinkSync(f.outside, evil);
    const contents = () =>
      tree(f.outside).map((entry) => [entry, readFileSync(join(f.outside, entry.split(" ")[0] ?? ""))]);
    const before = contents();
    // Exchanges "race" (a directory) with "race-evil" (a symlink to outside) atomically, as fast as it can.
    const swapper = spawn(
      "python3",
      [
        "-c",
        `import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
race, evil = (p.encode() for p in sys.argv[1:])
while True: libc.renameat2(-100, race, -100, evil, 2)`,
        race,
        evil,
      ],
      { stdio: "ignore" },
    );
    const outcomes = { done: 0, refused: {} as Record<string, number> };
    try {
      const attempts = [
        () => upload(join(race, "f"), Buffer.from("012345"), 2),
        () => upload(join(race, "sub", "f"), Buffer.from("0123"), 2),
        () => copy({ path: join(race, "d"), fileMode: S_IFDIR | 0o777, uid: 4242 }),
        () => copy({ path: join(race, "l"), fileMode: S_IFLNK | 0o777, data: Buffer.from("/etc") }),
      ];
      for (const deadline = Date.now() + 3000; Date.now() < deadline; ) {
        for (const attempt of attempts) {
          await attempt().then(
            () => outcomes.done++,
            (error: unknown) => {
              assert.ok(error instanceof TtrpcError, String(error));
              const code = Code[error.code] ?? String(error.code);
              outcomes.refused[code] = (outcomes.refused[code] ?? 0) + 1;
            },
          );
        }
      }
    } finally {
      swapper.kill("SIGKILL");
      await once(swapper, "exit");
    }
    t.diagnostic(`${outcomes.done} copies done, refused: ${JSON.stringify(outcomes.refused)}`);
    assert.deepEqual(contents(), before);
    const st = statSync(f.outside);
    assert.deepEqual([st.uid, st.mode & 0o7777], [0, 0o755]);
    assert.ok(outcomes.done > 0, "some copies were done");
    assert.deepEqual(
      Object.keys(outcomes.refused),
      ["PERMISSION_DENIED"],
      "the others were refused as leading out",
    );
  });
});
