import assert from "node:assert/strict";
import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code } from "../errors.js";
import {
  readTerminationLog,
  TERMINATION_LOG_BYTES,
  TERMINATION_MESSAGE_PATH,
  terminationLogSource,
} from "./termination-log.js";

describe("terminationLogSource", () => {
  const mounts = [
    { destination: "/etc/hosts", source: "/run/x/hosts" },
    { destination: "/dev/termination-log", source: "/run/x/c1-termination-log" },
  ];

  it("is the source of the mount at the annotation's destination", () => {
    const spec = {
      ociVersion: "1.0.2",
      annotations: { [TERMINATION_MESSAGE_PATH]: "/dev/termination-log" },
      mounts,
    };
    assert.equal(terminationLogSource(spec), "/run/x/c1-termination-log");
  });

  it("is none without the annotation or without a mount there", () => {
    assert.equal(terminationLogSource({ ociVersion: "1.0.2", mounts }), undefined);
    const elsewhere = {
      ociVersion: "1.0.2",
      annotations: { [TERMINATION_MESSAGE_PATH]: "/tmp/log" },
      mounts,
    };
    assert.equal(terminationLogSource(elsewhere), undefined);
  });
});

describe("readTerminationLog", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-termlog-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("reads the message, at most 4096 bytes, invalid UTF-8 replaced", async () => {
    const path = join(dir, "long");
    await writeFile(path, Buffer.concat([Buffer.from([0xff]), Buffer.alloc(2 * TERMINATION_LOG_BYTES, "a")]));
    const text = await readTerminationLog(path);
    assert.equal(text, `\ufffd${"a".repeat(TERMINATION_LOG_BYTES - 1)}`);
  });

  it("is empty when the container wrote none", async () => {
    assert.equal(await readTerminationLog(join(dir, "absent")), "");
  });

  it("does not follow a symlink and reads no directory", async () => {
    await writeFile(join(dir, "secret"), "secret");
    await symlink(join(dir, "secret"), join(dir, "link"));
    await assert.rejects(readTerminationLog(join(dir, "link")), /ELOOP|symbolic link/);
    await assert.rejects(readTerminationLog(dir), { code: Code.FAILED_PRECONDITION });
  });
});
