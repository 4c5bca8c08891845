import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import { PersistedSet } from "./persisted-set.js";

describe("PersistedSet", () => {
  const dir = mkdtempSync(join(tmpdir(), "berth-persisted-set-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("has each change in its file once the change resolves", async () => {
    const file = join(dir, "a", "set.json");
    const set = new PersistedSet(file);
    await set.add("/x");
    assert.deepEqual(await PersistedSet.read(file), ["/x"]);
    await Promise.all([set.add("/y"), set.add("/z"), set.delete("/x")]);
    assert.deepEqual(await PersistedSet.read(file), ["/y", "/z"]);
    await set.delete("/absent");
    await set.delete("/y");
    assert.deepEqual(JSON.parse(readFileSync(file, "utf8")), ["/z"]);
  });

  it("reads nothing where there is no file, and refuses a file that is not a list of strings", async () => {
    assert.deepEqual(await PersistedSet.read(join(dir, "none.json")), []);
    const bad = join(dir, "bad.json");
    writeFileSync(bad, '{"a":1}');
    await assert.rejects(
      PersistedSet.read(bad),
      (e) => e instanceof AgentError && e.code === Code.DATA_LOSS && e.message.includes(bad),
    );
  });

  it("fails a change it cannot write, and writes the next one", async () => {
    const blocker = join(dir, "file-not-dir");
    writeFileSync(blocker, "");
    const set = new PersistedSet(join(blocker, "set.json"));
    await assert.rejects(set.add("/x"), /cannot record 1 entries/);
    const good = new PersistedSet(join(dir, "good.json"));
    await good.add("/a");
    assert.deepEqual(await PersistedSet.read(join(dir, "good.json")), ["/a"]);
  });
});
