import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import {
  completeTree,
  type FileDigest,
  type ImageEntry,
  imageManifest,
  manifestKey,
} from "./image-manifest.js";

const kernel = { file: "linux-image-6.1.0-57-amd64_6.1.192-3_amd64.deb", hash: "SHA256:aa" };
const entries: ImageEntry[] = [
  { type: "file", path: "usr/bin/node", mode: 0o755, source: "/usr/bin/node" },
  { type: "symlink", path: "init", target: "/usr/lib/berth/dist/bin/berth-agent" },
  { type: "text", path: "etc/group", mode: 0o644, text: "root:x:0:\n" },
  { type: "directory", path: "tmp", mode: 0o1777 },
];
const digests = new Map<string, FileDigest>([["/usr/bin/node", { size: 3, sha256: "ab" }]]);
const key = (e = entries, d = digests, k = kernel, m = ["ext4"]) => manifestKey(imageManifest(k, m, e, d));
const code = (c: Code) => (e: unknown) => e instanceof AgentError && e.code === c;

describe("completeTree", () => {
  it("adds each missing parent directory and puts a directory before what it holds", () => {
    assert.deepEqual(
      completeTree(entries).map((e) => [e.type, e.path]),
      [
        ["directory", "etc"],
        ["text", "etc/group"],
        ["symlink", "init"],
        ["directory", "tmp"],
        ["directory", "usr"],
        ["directory", "usr/bin"],
        ["file", "usr/bin/node"],
      ],
    );
    assert.deepEqual(completeTree([{ type: "directory", path: "a/b", mode: 0o700 }])[0], {
      type: "directory",
      path: "a",
      mode: 0o755,
    });
  });

  it("keeps the same entry once but refuses two different ones for a path", () => {
    const link: ImageEntry = { type: "symlink", path: "sbin/modprobe", target: "/bin/busybox" };
    assert.equal(completeTree([link, { ...link }]).length, 2);
    assert.throws(() => completeTree([link, { ...link, target: "/x" }]), code(Code.ALREADY_EXISTS));
  });

  it("refuses a path beneath a symlink or a file, and paths that are not inside the image", () => {
    const parent: ImageEntry = { type: "symlink", path: "var/run", target: "/run" };
    assert.throws(
      () => completeTree([parent, { type: "directory", path: "var/run/x", mode: 0o755 }]),
      code(Code.INVALID_ARGUMENT),
    );
    for (const path of ["", "/etc", "a//b", "a/../b", "./a", "a/"]) {
      assert.throws(
        () => completeTree([{ type: "directory", path, mode: 0o755 }]),
        code(Code.INVALID_ARGUMENT),
      );
    }
  });
});

describe("manifestKey", () => {
  it("is the same for the same inputs in any order", () => {
    assert.match(key(), /^[0-9a-f]{64}$/);
    assert.equal(key(), key([...entries].reverse()));
    const reordered: ImageEntry = {
      source: "/usr/bin/node",
      mode: 0o755,
      path: "usr/bin/node",
      type: "file",
    };
    assert.equal(key(), key([reordered, ...entries.slice(1)]));
  });

  it("changes with a file's contents or size, a mode, a link, a text, the kernel or the modules", () => {
    const keys = [
      key(),
      key(entries, new Map([["/usr/bin/node", { size: 3, sha256: "ac" }]])),
      key(entries, new Map([["/usr/bin/node", { size: 4, sha256: "ab" }]])),
      key([{ ...entries[0], mode: 0o700 } as ImageEntry, ...entries.slice(1)]),
      key([
        ...entries.slice(0, 1),
        { type: "symlink", path: "init", target: "/sbin/init" },
        ...entries.slice(2),
      ]),
      key([
        ...entries.slice(0, 2),
        { type: "text", path: "etc/group", mode: 0o644, text: "" },
        entries[3] as ImageEntry,
      ]),
      key(entries, digests, { ...kernel, file: "linux-image-6.1.0-58-amd64_6.1.193-1_amd64.deb" }),
      key(entries, digests, { ...kernel, hash: "SHA256:bb" }),
      key(entries, digests, kernel, ["ext4", "overlay"]),
    ];
    assert.equal(new Set(keys).size, keys.length);
  });

  it("records each file's source, size and digest", () => {
    const manifest = imageManifest(kernel, ["ext4"], entries, digests);
    assert.deepEqual(
      manifest.entries.find((e) => e.path === "usr/bin/node"),
      { type: "file", path: "usr/bin/node", mode: 0o755, source: "/usr/bin/node", size: 3, sha256: "ab" },
    );
    assert.throws(() => imageManifest(kernel, [], entries, new Map()), code(Code.INTERNAL));
  });
});
