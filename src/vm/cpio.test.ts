import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import { runCommand } from "../sys/exec.js";
import { CpioWriter, fileSink, newcHeader } from "./cpio.js";

function memorySink(): { bytes: () => Buffer; write: (d: Uint8Array) => Promise<void> } {
  const chunks: Buffer[] = [];
  return {
    bytes: () => Buffer.concat(chunks),
    write: async (d) => {
      chunks.push(Buffer.from(d));
    },
  };
}

const zeros = (n: number) => "0".repeat(n);

describe("newcHeader", () => {
  it("spells each field as 8 hex digits after the magic, uid, gid, mtime and devices 0", () => {
    const header = Buffer.from(newcHeader({ ino: 1, mode: 0o40755, nlink: 2, fileSize: 0, nameSize: 4 }));
    assert.equal(header.length, 110);
    assert.equal(
      header.toString("latin1"),
      `070701${"00000001"}${"000041ed"}${zeros(16)}${"00000002"}${zeros(16)}${zeros(32)}${"00000004"}${zeros(8)}`,
    );
  });

  it("refuses a value 8 hex digits cannot hold", () => {
    assert.throws(
      () => newcHeader({ ino: 1, mode: 0o100644, nlink: 1, fileSize: 2 ** 32, nameSize: 2 }),
      (e: unknown) => e instanceof AgentError && e.code === Code.OUT_OF_RANGE,
    );
  });
});

describe("CpioWriter", () => {
  const dir = mkdtempSync(join(tmpdir(), "berth-cpio-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("writes the bytes worked out by hand: header, name padded to 4, data padded to 4, trailer", async () => {
    const sink = memorySink();
    const cpio = new CpioWriter(sink);
    await cpio.directory("etc");
    await cpio.file("etc/a", 0o644, Buffer.from("hello"));
    await cpio.symlink("init", "/x");
    await cpio.finish();
    const h = (ino: string, mode: string, nlink: string, size: string, name: string) =>
      `070701${ino}${mode}${zeros(16)}${nlink}${zeros(8)}${size}${zeros(32)}${name}${zeros(8)}`;
    const expected =
      `${h("00000001", "000041ed", "00000002", "00000000", "00000004")}etc\0\0\0` +
      `${h("00000002", "000081a4", "00000001", "00000005", "00000006")}etc/a\0hello\0\0\0` +
      `${h("00000003", "0000a1ff", "00000001", "00000002", "00000005")}init\0\0/x\0\0` +
      `${h("00000000", "00000000", "00000001", "00000000", "0000000b")}TRAILER!!!\0\0\0\0`;
    assert.equal(sink.bytes().toString("latin1"), expected);
    assert.equal(cpio.size, expected.length);
    assert.equal(cpio.size % 4, 0);
  });

  it("round-trips through GNU cpio: names in order, contents, modes, symlinks, mtime 0", async () => {
    const big = Buffer.alloc((1 << 20) + 12345);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
    const source = join(dir, "big.bin");
    writeFileSync(source, big);
    const archive = join(dir, "a.cpio");
    const handle = await open(archive, "w");
    const cpio = new CpioWriter(fileSink(handle));
    await cpio.directory("usr");
    await cpio.directory("usr/bin");
    await cpio.fileFrom("usr/bin/big", 0o755, source);
    await cpio.file("usr/empty", 0o600, new Uint8Array());
    await cpio.directory("tmp", 0o1777);
    await cpio.symlink("usr/link", "bin/big");
    await cpio.finish();
    await handle.close();

    const listed = await runCommand(["cpio", "-t", "--quiet", "-F", archive]);
    assert.deepEqual(listed.stdout.trim().split("\n"), [
      "usr",
      "usr/bin",
      "usr/bin/big",
      "usr/empty",
      "tmp",
      "usr/link",
    ]);
    const out = join(dir, "out");
    mkdirSync(out);
    await runCommand(["cpio", "-i", "-d", "--quiet", "--preserve-modification-time", "-F", archive], {
      cwd: out,
    });
    assert.deepEqual(readFileSync(join(out, "usr/bin/big")), big);
    assert.equal(lstatSync(join(out, "usr/bin/big")).mode & 0o7777, 0o755);
    assert.equal(lstatSync(join(out, "usr/bin/big")).mtimeMs, 0);
    assert.equal(readFileSync(join(out, "usr/empty")).length, 0);
    assert.equal(lstatSync(join(out, "usr/empty")).mode & 0o7777, 0o600);
    assert.equal(lstatSync(join(out, "tmp")).mode & 0o7777, 0o1777);
    assert.equal(readlinkSync(join(out, "usr/link")), "bin/big");
  });

  it("gives the same bytes for the same entries", async () => {
    const digest = async () => {
      const sink = memorySink();
      const cpio = new CpioWriter(sink);
      await cpio.directory("d");
      await cpio.file("d/f", 0o644, Buffer.from("x"));
      await cpio.finish();
      return createHash("sha256").update(sink.bytes()).digest("hex");
    };
    assert.equal(await digest(), await digest());
  });

  it("refuses a name twice, absolute or empty names, a directory as a file, and entries after the trailer", async () => {
    const cpio = new CpioWriter(memorySink());
    await cpio.directory("a");
    const code = (c: Code) => (e: unknown) => e instanceof AgentError && e.code === c;
    await assert.rejects(cpio.directory("a"), code(Code.ALREADY_EXISTS));
    await assert.rejects(cpio.file("/abs", 0o644, new Uint8Array()), code(Code.INVALID_ARGUMENT));
    await assert.rejects(cpio.symlink("", "x"), code(Code.INVALID_ARGUMENT));
    await assert.rejects(cpio.fileFrom("d", 0o644, dir), code(Code.INVALID_ARGUMENT));
    await cpio.finish();
    await assert.rejects(cpio.directory("b"), code(Code.FAILED_PRECONDITION));
  });
});
