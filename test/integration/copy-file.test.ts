import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import {
  constants,
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { CopyFileFields } from "../../src/guest/copy-file-request.js";
import { Code } from "../../src/protocol/ttrpc/code.js";
import { failsWith } from "../support/container-fixture.js";
import { copyFileFixture, MiB, sha256 } from "../support/copy-file-fixture.js";

const { S_IFREG, S_IFDIR, S_IFLNK } = constants;

describe("CopyFile", () => {
  const f = copyFileFixture();
  const { copy, upload } = f;

  it("puts a 5 MiB file sent in 1 MiB chunks together intact, with its mode and owner", async () => {
    const data = randomBytes(5 * MiB);
    const path = join(f.shared, "c1/files/blob");
    await upload(path, data, MiB, { fileMode: S_IFREG | 0o640, uid: 1234, gid: 5678 }, (written) => {
      assert.ok(!existsSync(path), `visible after ${written} bytes`);
      assert.equal(
        readdirSync(join(f.shared, "c1/files")).filter((n) => n.startsWith(".berth-copy-")).length,
        1,
      );
    });
    assert.equal(sha256(readFileSync(path)), sha256(data));
    const st = statSync(path);
    assert.deepEqual([st.mode & 0o7777, st.uid, st.gid, st.size], [0o640, 1234, 5678, 5 * MiB]);
    assert.deepEqual(readdirSync(join(f.shared, "c1/files")), ["blob"]);
    assert.equal(statSync(join(f.shared, "c1")).mode & 0o777, 0o755);
  });

  it("keeps setuid and setgid bits that chown would clear, and writes an empty file", async () => {
    await upload(join(f.shared, "suid"), Buffer.from("#!/bin/sh\n"), MiB, {
      fileMode: S_IFREG | 0o6755,
      uid: 1000,
      gid: 1000,
    });
    assert.equal(statSync(join(f.shared, "suid")).mode & 0o7777, 0o6755);
    await upload(join(f.shared, "empty"), new Uint8Array(), MiB);
    assert.equal(statSync(join(f.shared, "empty")).size, 0);
  });

  it("makes a directory (S_IFDIR) and a symlink (S_IFLNK) by the type bits of file_mode", async () => {
    await copy({ path: join(f.shared, "c2/dir"), fileMode: S_IFDIR | 0o1777, uid: 42, gid: 43 });
    const dir = lstatSync(join(f.shared, "c2/dir"));
    assert.ok(dir.isDirectory());
    assert.deepEqual([dir.mode & 0o7777, dir.uid, dir.gid], [0o1777, 42, 43]);
    await copy({ path: join(f.shared, "c2/dir"), fileMode: S_IFDIR | 0o700 });
    assert.equal(lstatSync(join(f.shared, "c2/dir")).mode & 0o7777, 0o700);

    await copy({
      path: join(f.shared, "c2/link"),
      fileMode: S_IFLNK | 0o777,
      data: Buffer.from("dir"),
      uid: 7,
      gid: 8,
    });
    const link = lstatSync(join(f.shared, "c2/link"));
    assert.ok(link.isSymbolicLink());
    assert.deepEqual([readlinkSync(join(f.shared, "c2/link")), link.uid, link.gid], ["dir", 7, 8]);
    await copy({
      path: join(f.shared, "c2/link"),
      fileMode: S_IFLNK | 0o777,
      data: Buffer.from("elsewhere"),
    });
    assert.equal(readlinkSync(join(f.shared, "c2/link")), "elsewhere");
    assert.deepEqual(
      readdirSync(join(f.shared, "c2")).sort(),
      ["dir", "link"],
      "no temporary entries are left behind",
    );
  });

  it("follows a symlinked directory that stays inside the shared directory", async () => {
    await copy({ path: join(f.shared, "c3/real"), fileMode: S_IFDIR | 0o755 });
    await copy({ path: join(f.shared, "c3/alias"), fileMode: S_IFLNK | 0o777, data: Buffer.from("real") });
    await upload(join(f.shared, "c3/alias/f"), Buffer.from("through"), MiB);
    assert.equal(readFileSync(join(f.shared, "c3/real/f"), "utf8"), "through");
  });

  it("shows the old file until the last chunk of its replacement is in", async () => {
    const path = join(f.shared, "config");
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
          path: join(f.shared, "pair", name),
          fileSize: BigInt(data.length),
          offset: BigInt(offset),
          data: part,
        });
      }
    }
    await copy({ path: join(f.shared, "pair/a"), fileSize: 3001n, offset: 3000n, data: a.subarray(3000) });
    await copy({ path: join(f.shared, "pair/b"), fileSize: 3002n, offset: 3000n, data: b.subarray(3000) });
    assert.equal(sha256(readFileSync(join(f.shared, "pair/a"))), sha256(a));
    assert.equal(sha256(readFileSync(join(f.shared, "pair/b"))), sha256(b));

    const files = Array.from(
      { length: 8 },
      (_, i) => [join(f.shared, "many", `f${i}`), randomBytes(64 * 1024 + i)] as const,
    );
    await Promise.all(files.map(([path, data]) => upload(path, data, 16 * 1024)));
    for (const [path, data] of files) assert.equal(sha256(readFileSync(path)), sha256(data));
    assert.equal(readdirSync(join(f.shared, "many")).length, 8);
  });

  it("refuses chunks out of order, and a new chunk at offset 0 starts the file again", async () => {
    const path = join(f.shared, "ordered");
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
      readdirSync(f.shared).filter((n) => n.startsWith(".berth-copy-")),
      [],
      "the abandoned first attempt's temporary file is gone",
    );
  });

  it("refuses garbage with INVALID_ARGUMENT and writes nothing", async () => {
    const path = join(f.shared, "garbage");
    const cases: [Partial<CopyFileFields>, RegExp][] = [
      [{ fileSize: -1n }, /file_size -1 is negative/],
      [{ fileSize: 4n, offset: 5n }, /offset 5 is beyond file_size 4/],
      [{ fileSize: 4n, data: Buffer.from("too long") }, /8 bytes at offset 0 run past file_size 4/],
      [{ fileSize: 4n, offset: -1n, data: Buffer.from("x") }, /offset -1 is negative/],
      [{ fileMode: 0o20666 }, /is neither a regular file, a directory nor a symlink/],
      [{ fileMode: S_IFLNK | 0o777 }, /a symlink needs its target/],
      [{ path: "relative/path" }, /must be absolute/],
      [{ path: `${path}\0/../../evil` }, /NUL byte/],
      [{ path: f.shared }, /must name something inside/],
      [{ path: `${f.shared}//./` }, /must name something inside/],
      [{ path: "/" }, /must name something inside/],
      [{ path: join(f.shared, "n".repeat(256)) }, /longer than 255 bytes/],
      [{ path: join(f.shared, "d/".repeat(2048), "x") }, /4096 bytes or longer/],
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
      f.rpc.client.call("grpc.AgentService", "CopyFile", badUtf8Path, { timeoutMs: 5000 }),
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
    const path = (name: string) => join(f.shared, "ids", name);
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
    assert.equal(statSync(join(f.shared, "ids")).mode & 0o7000, 0, "no setuid, setgid or sticky bit");
  });

  it("refuses to replace a directory with a file", async () => {
    await copy({ path: join(f.shared, "occupied"), fileMode: S_IFDIR | 0o755 });
    writeFileSync(join(f.shared, "occupied/keep"), "kept");
    await assert.rejects(
      upload(join(f.shared, "occupied"), Buffer.from("file"), MiB),
      failsWith(Code.FAILED_PRECONDITION, /a directory is in the way/),
    );
    assert.equal(readFileSync(join(f.shared, "occupied/keep"), "utf8"), "kept");
    assert.deepEqual(
      readdirSync(f.shared).filter((n) => n.startsWith(".berth-copy-")),
      [],
    );
  });
});
