import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { constants, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import { closeFd, openTrustedDirectory, withFd } from "../sys/beneath.js";
import { type WalkLimits, walkSource } from "./walk-source.js";

const KATA: WalkLimits = { maxEntries: 16, maxBytes: 1024 * 1024 };

describe("walkSource()", () => {
  let dir: string;
  let baseFd: number;
  const walk = (name: string, limits = KATA, signal?: AbortSignal) =>
    walkSource(baseFd, dir, name, limits, signal);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "berth-walk-"));
    mkdirSync(join(dir, "src", "b-dir", "inner"), { recursive: true });
    writeFileSync(join(dir, "src", "b-dir", "inner", "deep"), "1234");
    writeFileSync(join(dir, "src", "c-file"), "12");
    symlinkSync("b-dir", join(dir, "src", "a-link"));
    symlinkSync("/etc", join(dir, "src", "etc"));
    execFileSync("mkfifo", [join(dir, "src", "fifo")]);
    writeFileSync(join(dir, "lone"), "x");
    baseFd = await openTrustedDirectory(dir, constants.O_DIRECTORY);
  });

  after(async () => {
    await closeFd(baseFd);
    rmSync(dir, { recursive: true, force: true });
  });

  it("lists a directory's entries before any subdirectory's, symlinks as symlinks, FIFOs left out", async () => {
    const found = await walk("src");
    assert.equal(found.kind, "tree");
    const entries = found.kind === "tree" ? found.entries : [];
    assert.deepEqual(
      entries.map((e) => `${e.key}:${e.kind}:${e.size}${e.link === undefined ? "" : `:${e.link}`}`),
      [
        ":dir:0",
        "a-link:symlink:5:b-dir",
        "b-dir:dir:0",
        "c-file:file:2",
        "etc:symlink:4:/etc",
        "b-dir/inner:dir:0",
        "b-dir/inner/deep:file:4",
      ],
    );
  });

  it("counts every entry against the limit, FIFOs too, and stops at the first one past it", async () => {
    assert.equal((await walk("src", { maxEntries: 8, maxBytes: 100 })).kind, "tree");
    const found = await walk("src", { maxEntries: 7, maxBytes: 100 });
    assert.deepEqual(found, {
      kind: "too-big",
      reason: `${JSON.stringify(join(dir, "src", "b-dir", "inner", "deep"))} has more than 7 entries`,
    });
  });

  it("counts file sizes and symlink targets against the byte limit", async () => {
    assert.equal((await walk("src", { maxEntries: 16, maxBytes: 15 })).kind, "tree");
    assert.equal((await walk("src", { maxEntries: 16, maxBytes: 14 })).kind, "too-big");
  });

  it("walks a lone file as one entry", async () => {
    const found = await walk("lone");
    assert.deepEqual(found.kind === "tree" ? found.entries.map((e) => [e.key, e.kind, e.size]) : found, [
      ["", "file", 1],
    ]);
  });

  it("refuses a missing root (NOT_FOUND) and one that is not a file or directory (INVALID_ARGUMENT)", async () => {
    await assert.rejects(
      walk("missing"),
      (e: unknown) => e instanceof AgentError && e.code === Code.NOT_FOUND,
    );
    await withFd(openTrustedDirectory(join(dir, "src"), constants.O_DIRECTORY), async (src) => {
      await assert.rejects(
        walkSource(src, join(dir, "src"), "fifo", KATA),
        (e: unknown) => e instanceof AgentError && e.code === Code.INVALID_ARGUMENT,
      );
    });
  });

  it("stops when the signal aborts", async () => {
    const abort = new AbortController();
    abort.abort(new AgentError(Code.DEADLINE_EXCEEDED, "too slow"));
    await assert.rejects(walk("src", KATA, abort.signal), { code: Code.DEADLINE_EXCEEDED });
  });
});
