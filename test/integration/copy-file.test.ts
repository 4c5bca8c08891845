import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
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
import { after, before, beforeEach, describe, it } from "node:test";
import type { CopyFileFields } from "../../src/guest/copy-file-request.js";
import { Code } from "../../src/protocol/ttrpc/code.js";
import { TtrpcError } from "../../src/protocol/ttrpc/status.js";
import { type AgentProcess, startAgent } from "../support/agent-process.js";
import { AgentRpc } from "../support/agent-rpc.js";
import { failsWith } from "../support/container-fixture.js";

const MiB = 1024 * 1024;
const { S_IFREG, S_IFDIR, S_IFLNK } = constants;

const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

/** Everything below `dir`, as "path type" lines, symlinks with their targets. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((e) => {
      const path = join(e.parentPath, e.name).slice(dir.length + 1);
      if (e.isSymbolicLink()) return `${path} -> ${readlinkSync(join(e.parentPath, e.name))}`;
      return `${path} ${e.isDirectory() ? "dir" : "file"}`;
    })
    .sort();
}

describe("CopyFile", () => {
  let agent: AgentProcess;
  let rpc: AgentRpc;
  let shared: string;
  let outside: string;
  const escapeName = `berth-escape-${randomBytes(6).toString("hex")}`;

  const copy = (fields: Partial<CopyFileFields> & { path: string }, timeoutMs?: number) =>
    rpc.call("copyFile", { fileMode: S_IFREG | 0o644, dirMode: 0o755, ...fields }, timeoutMs);

  /** A whole file in chunks of `chunk` bytes, `between` run after each chunk but the last. */
  async function upload(
    path: string,
    data: Uint8Array,
    chunk: number,
    more: Partial<CopyFileFields> = {},
    between: (offset: number) => void = () => {},
  ) {
    for (let offset = 0; offset === 0 || offset < data.length; offset += chunk) {
      const part = data.subarray(offset, offset + chunk);
      await copy({ path, fileSize: BigInt(data.length), offset: BigInt(offset), data: part, ...more });
      if (offset + part.length < data.length) between(offset + part.length);
    }
  }

  before(async () => {
    agent = await startAgent();
    rpc = await AgentRpc.connect(agent.socketPath);
    shared = join(agent.dir, "run/shared/containers");
    outside = join(agent.dir, "outside");
    mkdirSync(shared, { recursive: true });
    mkdirSync(outside);
  });

  beforeEach(() => {
    writeFileSync(join(outside, "sentinel"), "untouched");
  });

  after(async () => {
    rpc?.close();
    await agent?.stop();
  });

  it("puts a 5 MiB file sent in 1 MiB chunks together intact, with its mode and owner", async () => {
    const data = randomBytes(5 * MiB);
    const path = join(shared, "c1/files/blob");
    await upload(path, data, MiB, { fileMode: S_IFREG | 0o640, uid: 1234, gid: 5678 }, (written) => {
      assert.ok(!existsSync(path), `visible after ${written} bytes`);
      assert.equal(
        readdirSync(join(shared, "c1/files")).filter((n) => n.startsWith(".berth-copy-")).length,
        1,
      );
    });
    assert.equal(sha256(readFileSync(path)), sha256(data));
    const st = statSync(path);
    assert.deepEqual([st.mode & 0o7777, st.uid, st.gid, st.size], [0o640, 1234, 5678, 5 * MiB]);
    assert.deepEqual(readdirSync(join(shared, "c1/files")), ["blob"]);
    assert.equal(statSync(join(shared, "c1")).mode & 0o777, 0o755);
  });

  it("keeps setuid and setgid bits that chown would clear, and writes an empty file", async () => {
    await upload(join(shared, "suid"), Buffer.from("#!/bin/sh\n"), MiB, {
      fileMode: S_IFREG | 0o6755,
      uid: 1000,
      gid: 1000,
    });
    assert.equal(statSync(join(shared, "suid")).mode & 0o7777, 0o6755);
    await upload(join(shared, "empty"), new Uint8Array(), MiB);
    assert.equal(statSync(join(shared, "empty")).size, 0);
  });

  it("makes a directory (S_IFDIR) and a symlink (S_IFLNK) by the type bits of file_mode", async () => {
    await copy({ path: join(shared, "c2/dir"), fileMode: S_IFDIR | 0o1777, uid: 42, gid: 43 });
    const dir = lstatSync(join(shared, "c2/dir"));
    assert.ok(dir.isDirectory());
    assert.deepEqual([dir.mode & 0o7777, dir.uid, dir.gid], [0o1777, 42, 43]);
    await copy({ path: join(shared, "c2/dir"), fileMode: S_IFDIR | 0o700 });
    assert.equal(lstatSync(join(shared, "c2/dir")).mode & 0o7777, 0o700);

    await copy({
      path: join(shared, "c2/link"),
      fileMode: S_IFLNK | 0o777,
      data: Buffer.from("dir"),
      uid: 7,
      gid: 8,
    });
    const link = lstatSync(join(shared, "c2/link"));
    assert.ok(link.isSymbolicLink());
    assert.deepEqual([readlinkSync(join(shared, "c2/link")), link.uid, link.gid], ["dir", 7, 8]);
    await copy({ path: join(shared, "c2/link"), fileMode: S_IFLNK | 0o777, data: Buffer.from("elsewhere") });
    assert.equal(readlinkSync(join(shared, "c2/link")), "elsewhere");
    assert.deepEqual(
      readdirSync(join(shared, "c2")).sort(),
      ["dir", "link"],
      "no temporary entries are left behind",
    );
  });

  it("follows a symlinked directory that stays inside the shared directory", async () => {
    await copy({ path: join(shared, "c3/real"), fileMode: S_IFDIR | 0o755 });
    await copy({ path: join(shared, "c3/alias"), fileMode: S_IFLNK | 0o777, data: Buffer.from("real") });
    await upload(join(shared, "c3/alias/f"), Buffer.from("through"), MiB);
    assert.equal(readFileSync(join(shared, "c3/real/f"), "utf8"), "through");
  });

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
      file(join(outside, "evil")),
    );
    refuses("a sibling of the shared directory", Code.INVALID_ARGUMENT, /must name something inside/, () =>
      file(`${shared}-evil/x`),
    );
    refuses("`..` components", Code.INVALID_ARGUMENT, /must not contain '\.\.'/, () =>
      file(`${shared}/c1/../../../../outside/evil`),
    );
    for (const kind of ["file", "directory", "symlink"] as const) {
      const write = { file, directory, symlink: link }[kind];
      refuses(
        `a ${kind} through a symlink planted on disk`,
        Code.PERMISSION_DENIED,
        /refused, the path leads out/,
        () => write(join(shared, "planted-abs", "evil")),
      );
      refuses(
        `a ${kind} through a relative symlink that climbs out`,
        Code.PERMISSION_DENIED,
        /leads out/,
        () => write(join(shared, "planted-rel", "evil")),
      );
      refuses(
        `a ${kind} through a symlink an earlier CopyFile made`,
        Code.PERMISSION_DENIED,
        /leads out/,
        () => write(join(shared, "by-rpc", "deeper", "evil")),
      );
      refuses(`a ${kind} through /proc/self/root`, Code.PERMISSION_DENIED, /leads out/, () =>
        write(join(shared, "magic", "tmp", escapeName)),
      );
      refuses(
        `a ${kind} through /proc/self/cwd, reached relatively`,
        Code.PERMISSION_DENIED,
        /leads out/,
        () => write(join(shared, "magic-rel", escapeName)),
      );
    }

    before(async () => {
      symlinkSync(outside, join(shared, "planted-abs"));
      symlinkSync(join("..", "..", "..", "outside"), join(shared, "planted-rel"));
      assert.equal(readFileSync(join(shared, "planted-rel", "sentinel"), "utf8"), "untouched");
      await copy({ path: join(shared, "by-rpc"), fileMode: S_IFLNK | 0o777, data: Buffer.from(outside) });
      await copy({
        path: join(shared, "magic"),
        fileMode: S_IFLNK | 0o777,
        data: Buffer.from("/proc/self/root"),
      });
      const magicRel = Buffer.from(out("proc", "self", "cwd"));
      await copy({ path: join(shared, "magic-rel"), fileMode: S_IFLNK | 0o777, data: magicRel });
    });

    it("each attempt fails with a clear error", async () => {
      for (const [name, attempt, code, message] of refusals) {
        await assert.rejects(attempt(), failsWith(code, message), name);
      }
      assert.deepEqual(tree(outside), ["sentinel file"]);
      assert.equal(readFileSync(join(outside, "sentinel"), "utf8"), "untouched");
      assert.ok(!existsSync(join(tmpdir(), escapeName)) && !existsSync(join("/", escapeName)));
    });

    it("a symlink as the last component is replaced, never written through", async () => {
      const target = join(outside, "sentinel");
      symlinkSync(target, join(shared, "last-file"));
      await upload(join(shared, "last-file"), Buffer.from("new content"), 4);
      assert.ok(lstatSync(join(shared, "last-file")).isFile());
      assert.equal(readFileSync(join(shared, "last-file"), "utf8"), "new content");

      symlinkSync(outside, join(shared, "last-dir"));
      await copy({ path: join(shared, "last-dir"), fileMode: S_IFDIR | 0o700, uid: 99 });
      assert.ok(lstatSync(join(shared, "last-dir")).isDirectory());

      symlinkSync(target, join(shared, "last-link"));
      await copy({
        path: join(shared, "last-link"),
        fileMode: S_IFLNK | 0o777,
        data: Buffer.from("harmless"),
      });
      assert.equal(readlinkSync(join(shared, "last-link")), "harmless");

      assert.equal(readFileSync(target, "utf8"), "untouched");
      const st = statSync(outside);
      assert.deepEqual([st.uid, st.mode & 0o7777], [0, 0o755]);
      assert.deepEqual(tree(outside), ["sentinel file"]);
    });
  });

  describe("entries planted in the shared directory are replaced, never written through or opened", () => {
    const partial = (dir: string) => readdirSync(dir).filter((n) => n.startsWith(".berth-copy-"));
    const linked = () => join(outside, "linked");

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
        linkSync(linked(), join(shared, name));
        await write(join(shared, name));
        assert.equal(statSync(linked()).nlink, 1, name);
      }
      assert.equal(readFileSync(join(shared, "hl-file"), "utf8"), "new content");
      assert.ok(lstatSync(join(shared, "hl-dir")).isDirectory());
      assert.equal(readlinkSync(join(shared, "hl-link")), "x");
      const st = statSync(linked());
      assert.deepEqual(
        [readFileSync(linked(), "utf8"), st.uid, st.mode & 0o7777],
        ["outside content", 0, 0o644],
      );
    });

    it("a FIFO or device node at the target, or in a parent's place, never blocks a call", async () => {
      for (const kind of ["file", "dir", "link"] as const) {
        execFileSync("mkfifo", [join(shared, `fifo-${kind}`)]);
        execFileSync("mknod", [join(shared, `dev-${kind}`), "c", "1", "3"]);
      }
      for (const node of ["fifo", "dev"]) {
        await upload(join(shared, `${node}-file`), Buffer.from("file"), 2);
        await copy({ path: join(shared, `${node}-dir`), fileMode: S_IFDIR | 0o755 });
        await copy({ path: join(shared, `${node}-link`), fileMode: S_IFLNK | 0o777, data: Buffer.from("x") });
        assert.ok(statSync(join(shared, `${node}-file`)).isFile(), node);
        assert.ok(statSync(join(shared, `${node}-dir`)).isDirectory(), node);
        assert.ok(lstatSync(join(shared, `${node}-link`)).isSymbolicLink(), node);
      }
      execFileSync("mkfifo", [join(shared, "fifo-parent")]);
      await assert.rejects(
        copy({ path: join(shared, "fifo-parent/x"), fileSize: 1n, data: Buffer.from("x") }, 5000),
        failsWith(Code.INVALID_ARGUMENT, /Not a directory/),
      );
      assert.ok(lstatSync(join(shared, "fifo-parent")).isFIFO());
      assert.deepEqual(
        agent.logs.filter((l) => l.msg === "cannot remove a partial CopyFile upload"),
        [],
        "no partial file was made, so there is none to remove",
      );
    });

    it("a FIFO put in place of the partial file between chunks fails the next chunk at once (ABORTED)", async () => {
      const dir = join(shared, "swapped-fifo");
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
      const dir = join(shared, "swapped-link");
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
    const race = join(shared, "race");
    const evil = join(shared, "race-evil");
    mkdirSync(race);
    symlinkSync(outside, evil);
    const contents = () =>
      tree(outside).map((entry) => [entry, readFileSync(join(outside, entry.split(" ")[0] ?? ""))]);
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
    const st = statSync(outside);
    assert.deepEqual([st.uid, st.mode & 0o7777], [0, 0o755]);
    assert.ok(outcomes.done > 0, "some copies were done");
    assert.deepEqual(
      Object.keys(outcomes.refused),
      ["PERMISSION_DENIED"],
      "the others were refused as leading out",
    );
  });

  it("shows the old file until the last chunk of its replacement is in", async () => {
    const path = join(shared, "config");
    writeFileSync(path, "old");
    await upload(path, Buffer.from("brand new config"), 5, {}, () => {
      assert.equal(readFileSync(path, "utf8"), "old");
    });
    assert.equal(readFileSync(path, "utf8"), "brand new config");
  });

  it("takes two uploads to different files interleaved, and many at once", async () => {
    const a = randomBytes(3 * 1000 + 1);
    const b = randomBytes(3 * 1000 + 2);
    for (let offset = 0; offset < 3000; offset += 1000) {
      for (const [name, data] of [
        ["a", a],
        ["b", b],
      ] as const) {
        const part = data.subarray(offset, offset + 1000);
        await copy({
          path: join(shared, "pair", name),
          fileSize: BigInt(data.length),
          offset: BigInt(offset),
          data: part,
        });
      }
    }
    await copy({ path: join(shared, "pair/a"), fileSize: 3001n, offset: 3000n, data: a.subarray(3000) });
    await copy({ path: join(shared, "pair/b"), fileSize: 3002n, offset: 3000n, data: b.subarray(3000) });
    assert.equal(sha256(readFileSync(join(shared, "pair/a"))), sha256(a));
    assert.equal(sha256(readFileSync(join(shared, "pair/b"))), sha256(b));

    const files = Array.from(
      { length: 8 },
      (_, i) => [join(shared, "many", `f${i}`), randomBytes(64 * 1024 + i)] as const,
    );
    await Promise.all(files.map(([path, data]) => upload(path, data, 16 * 1024)));
    for (const [path, data] of files) assert.equal(sha256(readFileSync(path)), sha256(data));
    assert.equal(readdirSync(join(shared, "many")).length, 8);
  });

  it("refuses chunks out of order, and a new chunk at offset 0 starts the file again", async () => {
    const path = join(shared, "ordered");
    const data = Buffer.from("0123456789");
    const chunk = (offset: number, length: number) =>
      copy({ path, fileSize: 10n, offset: BigInt(offset), data: data.subarray(offset, offset + length) });
    await assert.rejects(
      chunk(4, 2),
      failsWith(Code.INVALID_ARGUMENT, /offset 4, but no upload of this file is in progress/),
    );
    await chunk(0, 4);
    await assert.rejects(
      chunk(6, 2),
      failsWith(Code.INVALID_ARGUMENT, /offset 6, but 4 bytes have arrived so far/),
    );
    await assert.rejects(
      copy({ path, fileSize: 11n, offset: 4n, data: data.subarray(4, 6) }),
      failsWith(Code.INVALID_ARGUMENT, /says file_size 11, but the upload began with 10/),
    );
    await chunk(4, 3);
    assert.ok(!existsSync(path));
    await chunk(0, 5);
    await chunk(5, 5);
    assert.equal(readFileSync(path, "utf8"), "0123456789");
    assert.deepEqual(
      readdirSync(shared).filter((n) => n.startsWith(".berth-copy-")),
      [],
      "the abandoned first attempt's temporary file is gone",
    );
  });

  it("refuses garbage with INVALID_ARGUMENT and writes nothing", async () => {
    const path = join(shared, "garbage");
    const cases: [Partial<CopyFileFields>, RegExp][] = [
      [{ fileSize: -1n }, /file_size -1 is negative/],
      [{ fileSize: 4n, offset: 5n }, /offset 5 is beyond file_size 4/],
      [{ fileSize: 4n, data: Buffer.from("too long") }, /8 bytes at offset 0 run past file_size 4/],
      [{ fileSize: 4n, offset: -1n, data: Buffer.from("x") }, /offset -1 is negative/],
      [{ fileMode: 0o20666 }, /is neither a regular file, a directory nor a symlink/],
      [{ fileMode: S_IFLNK | 0o777 }, /a symlink needs its target/],
      [{ path: "relative/path" }, /must be absolute/],
      [{ path: `${path}\0/../../evil` }, /NUL byte/],
      [{ path: shared }, /must name something inside/],
      [{ path: `${shared}//./` }, /must name something inside/],
      [{ path: "/" }, /must name something inside/],
      [{ path: join(shared, "n".repeat(256)) }, /longer than 255 bytes/],
      [{ path: join(shared, "d/".repeat(2048), "x") }, /4096 bytes or longer/],
      [{ fileSize: 2n ** 63n - 1n }, /file_size 9223372036854775807 is too large/],
      [{ fileSize: 2n ** 53n }, /file_size 9007199254740992 is too large/],
      [{ fileSize: 4n, offset: -(2n ** 63n), data: Buffer.from("x") }, /is negative/],
      [{ fileMode: 0xffffffff }, /0o37777777777 is neither/],
      [{ fileMode: constants.S_IFSOCK | 0o777 }, /is neither/],
      [{ fileMode: constants.S_IFBLK | 0o777 }, /is neither/],
    ];
    for (const [fields, message] of cases) {
      await assert.rejects(
        copy({ path, ...fields }),
        failsWith(Code.INVALID_ARGUMENT, message),
        String(message),
      );
    }
    const badUtf8Path = Buffer.concat([Buffer.from([0x0a, 2]), Buffer.from([0xff, 0xfe])]);
    await assert.rejects(
      rpc.client.call("grpc.AgentService", "CopyFile", badUtf8Path, { timeoutMs: 5000 }),
      (error: unknown) => error instanceof Error && "code" in error && error.code === Code.INVALID_ARGUMENT,
    );
    await assert.rejects(
      copy({ path, fileSize: BigInt(4 * MiB + 1), data: new Uint8Array(4 * MiB + 1) }),
      failsWith(Code.RESOURCE_EXHAUSTED, /./),
    );
    assert.ok(!existsSync(path));
    await upload(path, Buffer.from("still serving"), MiB);
    assert.equal(readFileSync(path, "utf8"), "still serving");
  });

  it("takes uid and gid as uid_t bits (-1 leaves the agent's), and no special bits of dir_mode", async () => {
    const path = (name: string) => join(shared, "ids", name);
    await upload(path("minus-one"), Buffer.from("x"), MiB, { uid: -1, gid: -1, dirMode: 0o7777 });
    await upload(path("minus-two"), Buffer.from("x"), MiB, { uid: -2, gid: -(2 ** 31) });
    await copy({ path: path("dir"), fileMode: S_IFDIR | 0o755, uid: 2 ** 31 - 1, gid: 0 });
    const owner = (name: string) => {
      const st = lstatSync(path(name));
      return [st.uid, st.gid];
    };
    assert.deepEqual(owner("minus-one"), [process.getuid?.(), process.getgid?.()]);
    assert.deepEqual(owner("minus-two"), [2 ** 32 - 2, 2 ** 31]);
    assert.deepEqual(owner("dir"), [2 ** 31 - 1, 0]);
    assert.equal(statSync(join(shared, "ids")).mode & 0o7000, 0, "no setuid, setgid or sticky bit");
  });

  it("refuses to replace a directory with a file", async () => {
    await copy({ path: join(shared, "occupied"), fileMode: S_IFDIR | 0o755 });
    writeFileSync(join(shared, "occupied/keep"), "kept");
    await assert.rejects(
      upload(join(shared, "occupied"), Buffer.from("file"), MiB),
      failsWith(Code.FAILED_PRECONDITION, /a directory is in the way/),
    );
    assert.equal(readFileSync(join(shared, "occupied/keep"), "utf8"), "kept");
    assert.deepEqual(
      readdirSync(shared).filter((n) => n.startsWith(".berth-copy-")),
      [],
    );
  });
});
