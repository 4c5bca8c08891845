import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "../errors.js";
import { type CopyFileFields, planCopy } from "./copy-file-request.js";

const SHARED = "/run/kata-containers/shared/containers";

function request(over: Partial<CopyFileFields> = {}): CopyFileFields {
  return {
    path: `${SHARED}/c1/etc/hosts`,
    fileSize: 10n,
    fileMode: 0o100644,
    dirMode: 0o40755,
    uid: 1000,
    gid: 1000,
    offset: 0n,
    data: new Uint8Array(10),
    ...over,
  };
}

const invalid = (pattern: RegExp) => ({ code: Code.INVALID_ARGUMENT, message: pattern });

describe("planCopy()", () => {
  it("splits the path below the shared directory and keeps the attributes", () => {
    const plan = planCopy(request({ fileMode: 0o104755 }), SHARED);
    assert.equal(plan.relative, "c1/etc/hosts");
    assert.deepEqual(plan.parents, ["c1", "etc"]);
    assert.equal(plan.name, "hosts");
    assert.equal(plan.kind, "file");
    assert.equal(plan.mode, 0o4755);
    assert.equal(plan.dirMode, 0o755);
    assert.deepEqual([plan.uid, plan.gid, plan.fileSize, plan.offset], [1000, 1000, 10, 0]);
  });

  it("normalises empty and `.` components, and a shared dir given with a trailing slash", () => {
    const plan = planCopy(request({ path: `${SHARED}//./c1/./hosts` }), `${SHARED}/`);
    assert.equal(plan.relative, "c1/hosts");
    assert.deepEqual(plan.parents, ["c1"]);
  });

  it("counts NAME_MAX and PATH_MAX in UTF-8 bytes, and takes a trailing slash as Kata does", () => {
    assert.equal(planCopy(request({ path: `${SHARED}/${"€".repeat(85)}` }), SHARED).name.length, 85);
    assert.throws(
      () => planCopy(request({ path: `${SHARED}/${"€".repeat(86)}` }), SHARED),
      invalid(/longer than 255 bytes/),
    );
    const deep = `${SHARED}/${"d/".repeat(2000)}`;
    const base = `${deep}${"x".repeat(4093 - deep.length)}`;
    assert.equal(planCopy(request({ path: `${base}é` }), SHARED).name.length, 4093 - deep.length + 1);
    assert.throws(() => planCopy(request({ path: `${base}€` }), SHARED), invalid(/4096 bytes or longer/));
    assert.equal(planCopy(request({ path: `${SHARED}/c1/hosts/` }), SHARED).relative, "c1/hosts");
  });

  it("reads uid and gid as the uid_t bits the host sent in an int32", () => {
    const plan = planCopy(request({ uid: -2, gid: -1 }), SHARED);
    assert.equal(plan.uid, 0xfffffffe);
    assert.equal(plan.gid, 0xffffffff);
  });

  it("tells files, directories and symlinks by the whole S_IFMT field", () => {
    assert.equal(planCopy(request({ fileMode: 0o644 }), SHARED).kind, "file");
    const dir = planCopy(request({ fileMode: 0o41777, fileSize: 0n, data: new Uint8Array() }), SHARED);
    assert.deepEqual([dir.kind, dir.mode], ["directory", 0o1777]);
    const link = planCopy(request({ fileMode: 0o120777, fileSize: 0n, data: Buffer.from("../x") }), SHARED);
    assert.deepEqual([link.kind, link.target], ["symlink", "../x"]);
    // A block device's type bits include S_IFDIR's bit, and a socket's S_IFREG's: neither is accepted.
    for (const mode of [0o60644, 0o20644, 0o10644, 0o140644]) {
      assert.throws(
        () => planCopy(request({ fileMode: mode }), SHARED),
        invalid(/is neither a regular file, a directory nor a symlink/),
      );
    }
  });

  it("refuses paths outside the shared directory, `..` anywhere, and relative paths", () => {
    const cases: [string, RegExp][] = [
      ["/etc/passwd", /must name something inside \/run\/kata-containers\/shared\/containers/],
      ["/run/kata-containers/shared/foo", /must name something inside/],
      [`${SHARED}-evil/x`, /must name something inside/],
      [SHARED, /must name something inside/],
      [`${SHARED}/`, /must name something inside/],
      [`${SHARED}/../../etc/passwd`, /must not contain '\.\.'/],
      [`${SHARED}/c1/../c2/x`, /must not contain '\.\.'/],
      [`${SHARED}/c1/..`, /must not contain '\.\.'/],
      ["run/kata-containers/shared/containers/x", /must be absolute/],
      ["", /must be absolute/],
      [`${SHARED}/a\0b`, /NUL byte/],
      [`${SHARED}/${"n".repeat(256)}`, /longer than 255 bytes/],
      [`${SHARED}/${"d/".repeat(2100)}x`, /4096 bytes or longer/],
    ];
    for (const [path, message] of cases) {
      assert.throws(() => planCopy(request({ path }), SHARED), invalid(message), path);
    }
  });

  it("refuses sizes and offsets that do not fit together", () => {
    const cases: [Partial<CopyFileFields>, RegExp][] = [
      [{ fileSize: -1n }, /file_size -1 is negative/],
      [{ offset: -5n }, /offset -5 is negative/],
      [{ fileSize: 2n ** 62n }, /file_size 4611686018427387904 is too large/],
      [{ fileSize: 10n, offset: 11n, data: new Uint8Array() }, /offset 11 is beyond file_size 10/],
      [{ fileSize: 10n, data: new Uint8Array(11) }, /11 bytes at offset 0 run past file_size 10/],
      [{ fileSize: 10n, offset: 8n, data: new Uint8Array(3) }, /3 bytes at offset 8 run past file_size 10/],
    ];
    for (const [over, message] of cases) {
      assert.throws(() => planCopy(request(over), SHARED), invalid(message));
    }
    assert.equal(planCopy(request({ fileSize: 0n, data: new Uint8Array() }), SHARED).fileSize, 0);
    assert.equal(planCopy(request({ offset: 10n, data: new Uint8Array() }), SHARED).offset, 10);
  });

  it("takes a directory or symlink in one request, and a symlink's target as UTF-8 without NUL", () => {
    const link = { fileMode: 0o120777, fileSize: 0n };
    assert.throws(
      () => planCopy(request({ fileMode: 0o40755, offset: 3n, data: new Uint8Array() }), SHARED),
      invalid(/offset 3 for a directory/),
    );
    assert.throws(
      () => planCopy(request({ ...link, data: new Uint8Array() }), SHARED),
      invalid(/needs its target/),
    );
    assert.throws(
      () => planCopy(request({ ...link, data: Buffer.from("a\0b") }), SHARED),
      invalid(/target contains a NUL/),
    );
    assert.throws(
      () => planCopy(request({ ...link, data: Buffer.from([0xff, 0xfe]) }), SHARED),
      invalid(/not UTF-8/),
    );
    assert.throws(
      () => planCopy(request({ ...link, data: Buffer.alloc(4096, 0x61) }), SHARED),
      invalid(/4096 bytes or longer/),
    );
  });
});
