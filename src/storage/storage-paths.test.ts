import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_PATHS } from "../config/agent-paths.js";
import { AgentError, Code } from "../errors.js";
import { checkedMountPoint, checkedPath, checkText, watchableDirOf } from "./storage-paths.js";

const invalid = (fragment: string) => (e: unknown) =>
  e instanceof AgentError && e.code === Code.INVALID_ARGUMENT && e.message.includes(fragment);

describe("checkedPath()", () => {
  it("normalises duplicate slashes, dot segments and a trailing slash", () => {
    assert.equal(
      checkedPath("p", "/run//kata-containers/./shared/containers/"),
      "/run/kata-containers/shared/containers",
    );
    assert.equal(checkedPath("p", "/"), "/");
  });

  it("rejects relative paths, '..' segments and NUL bytes, quoting the value", () => {
    assert.throws(
      () => checkedPath("source", "relative/dir"),
      invalid('source "relative/dir" is not an absolute path'),
    );
    assert.throws(() => checkedPath("source", "/a/../etc"), invalid('source "/a/../etc" has a ".." segment'));
    assert.throws(() => checkedPath("source", "/a/b/.."), invalid('has a ".." segment'));
    assert.throws(() => checkedPath("source", "/a\0b"), invalid('source "/a\\u0000b" contains a NUL byte'));
  });

  it("accepts names that merely contain dots", () => {
    assert.equal(checkedPath("p", "/a/..b/c.."), "/a/..b/c..");
  });
});

describe("checkedMountPoint()", () => {
  it("refuses the root directory", () => {
    assert.throws(() => checkedMountPoint("//"), invalid('mount point "//" is the root directory'));
  });

  it("rejects an empty mount point", () => {
    assert.throws(() => checkedMountPoint(""), invalid('mount point "" is not an absolute path'));
  });
});

describe("checkText()", () => {
  it("accepts tags and rejects NUL bytes", () => {
    checkText("source", "kataShared");
    assert.throws(() => checkText("option", "size=1m\0"), invalid("contains a NUL byte"));
  });
});

describe("watchableDirOf()", () => {
  const shared = "/run/kata-containers/shared/containers";

  it("accepts a mount point directly in a watchable directory of the configured shared dir, or a rootless one", () => {
    for (const dir of [
      `${shared}/watchable`,
      `${shared}/passthrough/watchable`,
      `/run/user/1000${shared}/watchable`,
      `/run/user/4294967295${shared}/passthrough/watchable`,
    ]) {
      assert.equal(watchableDirOf(`${dir}/cid-abc-secret`, DEFAULT_PATHS), dir);
    }
    assert.equal(
      watchableDirOf("/tmp/t/run/shared/containers/watchable/x", { ...DEFAULT_PATHS, runDir: "/tmp/t/run" }),
      "/tmp/t/run/shared/containers/watchable",
    );
  });

  it("refuses any other place (INVALID_ARGUMENT), quoting the mount point", () => {
    for (const mountPoint of [
      `${shared}/watchable`,
      `${shared}/watchable/a/b`,
      `${shared}/other/x`,
      "/etc/watchable/x",
      `/run/user/0${shared}/watchable/x`,
      `/run/user/01000${shared}/watchable/x`,
      `/run/user/4294967296${shared}/watchable/x`,
      `/run/user/1000/extra${shared}/watchable/x`,
    ]) {
      assert.throws(
        () => watchableDirOf(mountPoint, DEFAULT_PATHS),
        invalid(`watchable mount point ${JSON.stringify(mountPoint)} is not directly in`),
        mountPoint,
      );
    }
  });
});
