import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { FileHashes } from "./file-hashes.js";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

describe("FileHashes", () => {
  const dir = mkdtempSync(join(tmpdir(), "berth-file-hashes-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const index = join(dir, "index.json");

  it("hashes a file once, and again once its size or mtime changed", async () => {
    const a = join(dir, "a");
    writeFileSync(a, "one");
    const first = await FileHashes.load(index);
    assert.deepEqual(await first.digest(a), { size: 3, sha256: sha256("one") });
    assert.equal(first.hashed, 1);
    await first.save();

    const second = await FileHashes.load(index);
    assert.deepEqual(await second.digest(a), { size: 3, sha256: sha256("one") });
    assert.equal(second.hashed, 0);

    writeFileSync(a, "two");
    utimesSync(a, 1000, 1000);
    const third = await FileHashes.load(index);
    assert.deepEqual(await third.digest(a), { size: 3, sha256: sha256("two") });
    assert.equal(third.hashed, 1);
  });

  it("keeps in the index only the files asked for since it was loaded", async () => {
    const [b, c] = [join(dir, "b"), join(dir, "c")];
    writeFileSync(b, "b");
    writeFileSync(c, "c");
    const hashes = await FileHashes.load(index);
    await hashes.digest(b);
    await hashes.digest(c);
    await hashes.save();
    const next = await FileHashes.load(index);
    await next.digest(c);
    await next.save();
    assert.deepEqual(Object.keys(JSON.parse(readFileSync(index, "utf8")).files), [c]);
  });

  it("starts over from a damaged index", async () => {
    writeFileSync(index, "{not json");
    const hashes = await FileHashes.load(index);
    const d = join(dir, "d");
    writeFileSync(d, "d");
    assert.equal((await hashes.digest(d)).sha256, sha256("d"));
    assert.equal(hashes.hashed, 1);
  });
});
