import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import {
  hasOption,
  hugepageRequest,
  kernelOptions,
  optionValue,
  parseFsGid,
  parseMode,
  splitOptions,
} from "./storage-options.js";

const invalid = (fragment: string) => (e: unknown) =>
  e instanceof AgentError && e.code === Code.INVALID_ARGUMENT && e.message.includes(fragment);

describe("splitOptions() / optionValue() / hasOption()", () => {
  it("splits comma lists, trims and drops blanks", () => {
    assert.deepEqual(splitOptions(["ro, size=1m", "", "mode=0755"]), ["ro", "size=1m", "mode=0755"]);
  });

  it("takes the last value of a key, and only exact keys", () => {
    assert.equal(optionValue(["mode=0700", "xmode=1", "mode=0755"], "mode"), "0755");
    assert.equal(optionValue(["lowerdir=/a:/b"], "lowerdir"), "/a:/b");
    assert.equal(optionValue(["size=1m"], "mode"), undefined);
    assert.equal(hasOption(["rw,ro"], "ro"), true);
    assert.equal(hasOption(["rootcontext=x"], "ro"), false);
  });
});

describe("kernelOptions()", () => {
  it("drops Kata's own options and the keys asked for", () => {
    assert.deepEqual(
      kernelOptions(["io.katacontainers.fs-opt.overlay-rw", "lowerdir=/l", "fsgid=5,size=1m"], ["fsgid"]),
      ["lowerdir=/l", "size=1m"],
    );
  });
});

describe("parseMode()", () => {
  it("reads octal modes with or without a leading zero", () => {
    assert.equal(parseMode(["mode=0750"]), 0o750);
    assert.equal(parseMode(["mode=777"]), 0o777);
    assert.equal(parseMode(["mode=02775"]), 0o2775);
    assert.equal(parseMode(["size=1m"]), undefined);
  });

  it("rejects what is not octal", () => {
    for (const bad of ["mode=0789", "mode=rwx", "mode=", "mode=077777", "mode=-1"]) {
      assert.throws(() => parseMode([bad]), invalid(JSON.stringify(bad)), bad);
    }
  });
});

describe("parseFsGid()", () => {
  it("reads a decimal gid", () => {
    assert.equal(parseFsGid(["fsgid=0"]), 0);
    assert.equal(parseFsGid(["mode=0700,fsgid=2000"]), 2000);
    assert.equal(parseFsGid([]), undefined);
  });

  it("rejects negative, non-numeric and out-of-range gids", () => {
    for (const bad of ["fsgid=-1", "fsgid=abc", "fsgid=", "fsgid=4294967295", "fsgid=1e3"]) {
      assert.throws(() => parseFsGid([bad]), invalid(JSON.stringify(bad)), bad);
    }
  });
});

describe("hugepageRequest()", () => {
  it("reads Kata's pagesize and size in bytes, in any order among other options", () => {
    assert.deepEqual(hugepageRequest(["pagesize=2097152,size=524288000"]), {
      pageSize: 2_097_152,
      pages: 250,
    });
    assert.deepEqual(hugepageRequest(["foo=bar", "size=3221225472", "pagesize=1073741824"]), {
      pageSize: 1_073_741_824,
      pages: 3,
    });
  });

  it("needs both options, as whole numbers", () => {
    assert.throws(
      () => hugepageRequest(["size=2097152"]),
      invalid("needs pagesize=<bytes> and size=<bytes>"),
    );
    assert.throws(() => hugepageRequest(["pagesize=2097152"]), invalid("needs pagesize"));
    assert.throws(() => hugepageRequest(["pagesize=abc,size=1"]), invalid('"pagesize=abc"'));
    assert.throws(() => hugepageRequest(["pagesize=2097152,size="]), invalid('"size="'));
    assert.throws(() => hugepageRequest(["pagesize=100,size=1000"]), invalid("is not a page size"));
  });
});
