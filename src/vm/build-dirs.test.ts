import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { buildDirPrefix, removeAbandonedBuilds } from "./build-dirs.js";

describe("removeAbandonedBuilds", () => {
  const dir = mkdtempSync(join(tmpdir(), "berth-build-dirs-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("removes the build directories of processes that are gone, and nothing else", async () => {
    const gone = 2 ** 31 - 1;
    mkdirSync(join(dir, `${buildDirPrefix(gone)}abc`, "image"), { recursive: true });
    mkdirSync(join(dir, `${buildDirPrefix()}def`));
    mkdirSync(join(dir, "kernels"));
    const logs: string[] = [];
    await removeAbandonedBuilds(dir, (m) => logs.push(m));
    assert.deepEqual(logs, []);
    assert.deepEqual(readdirSync(dir).sort(), [`${buildDirPrefix()}def`, "kernels"].sort());
  });
});
