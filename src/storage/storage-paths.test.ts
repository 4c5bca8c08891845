import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import { checkedMountPoint, checkedPath, checkText } from "./storage-paths.js";

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
