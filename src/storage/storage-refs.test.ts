import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import { StorageRefs } from "./storage-refs.js";

const notFound = (e: unknown) =>
  e instanceof AgentError && e.code === Code.NOT_FOUND && e.message.includes('"/m"');

describe("StorageRefs", () => {
  it("counts users of one mount point and hands it back for cleanup with the last one", () => {
    const refs = new StorageRefs<string>();
    assert.equal(refs.acquire("/m"), false);
    refs.insert("/m", "undo", false);
    assert.equal(refs.acquire("/m"), true);
    assert.deepEqual(
      refs.entries().map((e) => [e.key, e.refs]),
      [["/m", 2]],
    );
    assert.equal(refs.drop("/m"), undefined);
    assert.equal(refs.drop("/m"), "undo");
    assert.deepEqual(refs.entries(), []);
    assert.throws(() => refs.drop("/m"), notFound);
  });

  it("keeps a shared storage without references until it is dropped with evenShared or taken", () => {
    const refs = new StorageRefs<string>();
    refs.insert("/m", "undo", true);
    assert.equal(refs.drop("/m"), undefined);
    assert.deepEqual(
      refs.entries().map((e) => [e.key, e.refs, e.shared]),
      [["/m", 0, true]],
    );
    assert.throws(() => refs.drop("/m"), notFound);
    assert.equal(refs.acquire("/m"), true);
    assert.equal(refs.drop("/m", true), "undo");
    refs.insert("/m", "again", true);
    assert.equal(refs.take("/m"), "again");
    assert.equal(refs.take("/m"), undefined);
  });

  it("lists entries newest first", () => {
    const refs = new StorageRefs<number>();
    refs.insert("/a", 1, false);
    refs.insert("/a/b", 2, false);
    assert.deepEqual(
      refs.entries().map((e) => e.key),
      ["/a/b", "/a"],
    );
    assert.throws(
      () => refs.insert("/a", 3, false),
      (e: unknown) => e instanceof AgentError && e.code === Code.INTERNAL,
    );
  });
});
