import assert from "node:assert/strict";
import {
  chmodSync,
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import { createLogger } from "../log.js";
import { SerialQueue } from "../sys/serial-queue.js";
import { type ScanOutcome, WatchedCopy } from "./watched-copy.js";

const KATA = { maxEntries: 16, maxBytes: 1024 * 1024 };
const log = createLogger({ level: "silent" });

/** Every path below `dir`, sorted, directories marked with a trailing slash and symlinks with their target. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = rel === "" ? name : `${rel}/${name}`;
      const st = lstatSync(join(dir, path));
      if (st.isSymbolicLink()) out.push(`${path} -> ${readlinkSync(join(dir, path))}`);
      else if (st.isDirectory()) {
        out.push(`${path}/`);
        walk(path);
      } else out.push(`${path}: ${readFileSync(join(dir, path), "utf8")}`);
    }
  };
  walk("");
  return out;
}

const copied = (outcome: ScanOutcome) => {
  assert.equal(outcome.kind, "copied", JSON.stringify(outcome));
  assert.ok(outcome.kind === "copied");
  assert.deepEqual(outcome.failures, []);
  return outcome;
};

describe("WatchedCopy", () => {
  let dir: string;
  let source: string;
  let target: string;
  let copy: WatchedCopy;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "berth-watched-copy-"));
    source = join(dir, "source");
    target = join(dir, "watchable", "vol");
    mkdirSync(source);
    mkdirSync(join(dir, "watchable"));
    copy = new WatchedCopy({ source, target, limits: KATA, log });
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("copies the tree: files and directories with their modes, symlinks as symlinks", async () => {
    writeFileSync(join(source, "key"), "value", { mode: 0o640 });
    mkdirSync(join(source, "sub"), { mode: 0o750 });
    chmodSync(join(source, "sub"), 0o750);
    writeFileSync(join(source, "sub", "inner"), "deep");
    chmodSync(join(source, "sub", "inner"), 0o4755);
    symlinkSync("sub/inner", join(source, "relative"));
    symlinkSync("/nowhere/at/all", join(source, "dangling"));
    chmodSync(source, 0o711);
    assert.equal(copied(await copy.scan()).changed, 6);
    assert.deepEqual(tree(target), [
      "dangling -> /nowhere/at/all",
      "key: value",
      "relative -> sub/inner",
      "sub/",
      "sub/inner: deep",
    ]);
    assert.equal(statSync(join(target, "key")).mode & 0o7777, 0o640);
    assert.equal(statSync(join(target, "sub")).mode & 0o7777, 0o750);
    assert.equal(statSync(join(target, "sub", "inner")).mode & 0o7777, 0o4755);
    assert.equal(statSync(target).mode & 0o7777, 0o711);
    const again = copied(await copy.scan());
    assert.equal(again.changed, 0, "an unchanged source changes nothing");
    assert.equal(copy.scans, 2);
  });

  it("never follows a symlink out of the source: it is re-created, not read or descended", async () => {
    const outside = join(dir, "outside");
    mkdirSync(outside);
    writeFileSync(join(outside, "secret"), "not yours");
    symlinkSync(join(outside, "secret"), join(source, "file-link"));
    symlinkSync("../outside", join(source, "dir-link"));
    copied(await copy.scan());
    assert.deepEqual(tree(target), [`dir-link -> ../outside`, `file-link -> ${join(outside, "secret")}`]);
    assert.ok(lstatSync(join(target, "file-link")).isSymbolicLink());
  });

  it("copies changed and new files by renaming a complete file over the old one", async () => {
    writeFileSync(join(source, "key"), "one");
    copied(await copy.scan());
    const reader = openSync(join(target, "key"), "r");
    try {
      writeFileSync(join(source, "key"), "two, longer");
      writeFileSync(join(source, "new"), "fresh");
      assert.equal(copied(await copy.scan()).changed, 2);
      assert.deepEqual(tree(target), ["key: two, longer", "new: fresh"]);
      const old = Buffer.alloc(16);
      const n = readSync(reader, old, 0, old.length, 0);
      assert.equal(old.subarray(0, n).toString(), "one", "a reader of the old file keeps the old bytes");
    } finally {
      closeSync(reader);
    }
    assert.deepEqual(
      readdirSync(target).filter((n) => n.startsWith(".berth")),
      [],
      "no temporary file is left",
    );
  });

  it("follows mode changes and removes what vanished, directories with what they held", async () => {
    writeFileSync(join(source, "a"), "a");
    mkdirSync(join(source, "d", "e"), { recursive: true });
    writeFileSync(join(source, "d", "e", "f"), "f");
    copied(await copy.scan());
    chmodSync(join(source, "a"), 0o600);
    rmSync(join(source, "d"), { recursive: true });
    assert.equal(copied(await copy.scan()).changed, 4);
    assert.deepEqual(tree(target), ["a: a"]);
    assert.equal(statSync(join(target, "a")).mode & 0o777, 0o600);
  });

  it("follows an entry that changes kind: file to directory and back", async () => {
    writeFileSync(join(source, "x"), "file");
    copied(await copy.scan());
    rmSync(join(source, "x"));
    mkdirSync(join(source, "x"));
    writeFileSync(join(source, "x", "y"), "y");
    copied(await copy.scan());
    assert.deepEqual(tree(target), ["x/", "x/y: y"]);
    rmSync(join(source, "x"), { recursive: true });
    symlinkSync("elsewhere", join(source, "x"));
    copied(await copy.scan());
    assert.deepEqual(tree(target), ["x -> elsewhere"]);
  });

  it("copies a single file source to a file", async () => {
    const file = join(dir, "one-file");
    writeFileSync(file, "v1");
    const single = new WatchedCopy({ source: file, target, limits: KATA, log });
    copied(await single.scan());
    assert.equal(readFileSync(target, "utf8"), "v1");
    writeFileSync(file, "v2 longer");
    copied(await single.scan());
    assert.equal(readFileSync(target, "utf8"), "v2 longer");
    await single.remove();
    assert.equal(existsSync(target), false);
  });

  describe("Kubernetes' atomic writer (..data swapped by a rename)", () => {
    const version = (ts: string, values: Record<string, string>) => {
      mkdirSync(join(source, ts));
      for (const [k, v] of Object.entries(values)) writeFileSync(join(source, ts, k), v);
    };
    const swapData = (ts: string) => {
      symlinkSync(ts, join(source, "..data_tmp"));
      renameSync(join(source, "..data_tmp"), join(source, "..data"));
    };

    beforeEach(() => {
      version("..2026_01_01_00_00_00.000000001", { user: "alice", pass: "one" });
      symlinkSync("..2026_01_01_00_00_00.000000001", join(source, "..data"));
      symlinkSync("..data/user", join(source, "user"));
      symlinkSync("..data/pass", join(source, "pass"));
    });

    it("follows the swap: the new directory, then ..data, then the old directory goes", async () => {
      copied(await copy.scan());
      assert.equal(readFileSync(join(target, "pass"), "utf8"), "one");
      version("..2026_01_01_00_00_02.000000002", { user: "alice", pass: "two" });
      swapData("..2026_01_01_00_00_02.000000002");
      rmSync(join(source, "..2026_01_01_00_00_00.000000001"), { recursive: true });
      copied(await copy.scan());
      assert.deepEqual(tree(target), [
        "..2026_01_01_00_00_02.000000002/",
        "..2026_01_01_00_00_02.000000002/pass: two",
        "..2026_01_01_00_00_02.000000002/user: alice",
        "..data -> ..2026_01_01_00_00_02.000000002",
        "pass -> ..data/pass",
        "user -> ..data/user",
      ]);
      assert.equal(readFileSync(join(target, "pass"), "utf8"), "two");
    });

    it("keeps the old directory while the copy's ..data still names it (a scan between two steps)", async () => {
      copied(await copy.scan());
      // The scan sees ..data still naming the old directory, which is already gone.
      rmSync(join(source, "..2026_01_01_00_00_00.000000001"), { recursive: true });
      version("..2026_01_01_00_00_02.000000002", { user: "alice", pass: "two" });
      copied(await copy.scan());
      assert.equal(readFileSync(join(target, "pass"), "utf8"), "one", "the copy stays whole");
      swapData("..2026_01_01_00_00_02.000000002");
      copied(await copy.scan());
      assert.equal(readFileSync(join(target, "pass"), "utf8"), "two");
      assert.equal(existsSync(join(target, "..2026_01_01_00_00_00.000000001")), false);
    });
  });

  describe("limits", () => {
    it("allows 16 entries, the root included, and is too big at 17", async () => {
      for (let i = 1; i <= 15; i++) writeFileSync(join(source, `f${i}`), "x");
      assert.equal(copied(await copy.scan()).changed, 16);
      writeFileSync(join(source, "f16"), "x");
      const outcome = await copy.scan();
      assert.equal(outcome.kind, "too-big");
      assert.match(outcome.kind === "too-big" ? outcome.reason : "", /more than 16 entries/);
      assert.equal(readdirSync(target).length, 15, "a source too big changes nothing of the copy");
    });

    it("allows 1 MiB of files and symlink targets, and is too big one byte past it", async () => {
      writeFileSync(join(source, "big"), Buffer.alloc(1024 * 1024 - 4));
      symlinkSync("abcd", join(source, "link"));
      copied(await copy.scan());
      assert.equal(statSync(join(target, "big")).size, 1024 * 1024 - 4);
      writeFileSync(join(source, "one-more"), "!");
      const outcome = await copy.scan();
      assert.equal(outcome.kind, "too-big");
      assert.match(outcome.kind === "too-big" ? outcome.reason : "", /more than 1048576 bytes/);
    });

    it("stops walking a huge directory at the limit", async () => {
      for (let i = 0; i < 200; i++) writeFileSync(join(source, `f${i}`), "");
      const outcome = await copy.scan();
      assert.equal(outcome.kind, "too-big");
      assert.equal(existsSync(target), false, "nothing is copied");
    });
  });

  it("runs one scan at a time: a scan asked for while one runs is that one", async () => {
    writeFileSync(join(source, "key"), "value");
    const first = copy.scan();
    const second = copy.scan();
    assert.equal(first, second);
    await first;
    assert.equal(copy.scans, 1);
    await copy.scan();
    assert.equal(copy.scans, 2);
  });

  it("takes turns with the other copies given the same queue", async () => {
    writeFileSync(join(source, "key"), "value");
    const turns = new SerialQueue("scans", 8);
    const a = new WatchedCopy({ source, target, limits: KATA, log, turns });
    const b = new WatchedCopy({ source, target: join(dir, "watchable", "other"), limits: KATA, log, turns });
    const scans = [a.scan(), b.scan()];
    assert.equal(turns.pending, 2);
    await Promise.all(scans);
    assert.equal(turns.pending, 0);
    assert.deepEqual(tree(join(dir, "watchable")), ["other/", "other/key: value", "vol/", "vol/key: value"]);
  });

  it("rejects a scan of a missing source (NOT_FOUND), keeping the copy, and copies again once it is back", async () => {
    writeFileSync(join(source, "key"), "value");
    copied(await copy.scan());
    renameSync(source, `${source}.away`);
    await assert.rejects(copy.scan(), (e: unknown) => AgentError.from(e).code === Code.NOT_FOUND);
    assert.deepEqual(tree(target), ["key: value"]);
    renameSync(`${source}.away`, source);
    writeFileSync(join(source, "key"), "back again");
    copied(await copy.scan());
    assert.deepEqual(tree(target), ["key: back again"]);
  });

  it("honours an abort: the scan rejects with its reason", async () => {
    writeFileSync(join(source, "key"), "value");
    const abort = new AbortController();
    abort.abort(new AgentError(Code.CANCELLED, "released"));
    await assert.rejects(copy.scan(abort.signal), { code: Code.CANCELLED, message: "released" });
  });

  it("never writes through a symlink planted in the copy (a container's read-write mount)", async () => {
    const outside = join(dir, "outside");
    mkdirSync(outside);
    mkdirSync(join(source, "sub"));
    writeFileSync(join(source, "sub", "a"), "a");
    copied(await copy.scan());
    rmSync(join(target, "sub"), { recursive: true });
    symlinkSync(outside, join(target, "sub"));
    writeFileSync(join(source, "sub", "b"), "b");
    const outcome = await copy.scan();
    assert.ok(outcome.kind === "copied" && outcome.failures.length === 1, JSON.stringify(outcome));
    assert.deepEqual(readdirSync(outside), []);
  });

  it("remove() takes the whole copy away", async () => {
    mkdirSync(join(source, "sub"));
    writeFileSync(join(source, "sub", "a"), "a");
    copied(await copy.scan());
    writeFileSync(join(target, "sub", "written-by-a-container"), "x");
    await copy.remove();
    assert.equal(existsSync(target), false);
    assert.deepEqual(readdirSync(join(dir, "watchable")), []);
  });
});
