import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { capturingLog } from "../log.test-util.js";
import { scanGuestHooks } from "./guest-hooks.js";

describe("scanGuestHooks()", () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-guest-hooks-"));
    const prestart = join(dir, "prestart");
    await mkdir(prestart);
    for (const name of ["b-hook", "a-hook", "Z-hook"]) {
      await writeFile(join(prestart, name), "#!/bin/sh\n", { mode: 0o755 });
    }
    await writeFile(join(prestart, "owner-only"), "#!/bin/sh\n", { mode: 0o700 });
    await writeFile(join(prestart, "readme"), "not a hook\n", { mode: 0o644 });
    await symlink(join(prestart, "a-hook"), join(prestart, "link-to-a"));
    await mkdir(join(prestart, "subdir"));
    await chmod(join(prestart, "subdir"), 0o755);
    await mkdir(join(dir, "poststop"));
    await writeFile(join(dir, "poststop", "cleanup"), "#!/bin/sh\n", { mode: 0o750 });
    // poststart is absent.
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("finds regular executable files, sorted by name, with Kata's argv [name, hookType]", async () => {
    const { log } = capturingLog();
    const hooks = await scanGuestHooks(dir, log);
    const prestart = join(dir, "prestart");
    assert.deepEqual(hooks, {
      prestart: [
        { path: join(prestart, "Z-hook"), args: ["Z-hook", "prestart"] },
        { path: join(prestart, "a-hook"), args: ["a-hook", "prestart"] },
        { path: join(prestart, "b-hook"), args: ["b-hook", "prestart"] },
        { path: join(prestart, "owner-only"), args: ["owner-only", "prestart"] },
      ],
      poststart: [],
      poststop: [{ path: join(dir, "poststop", "cleanup"), args: ["cleanup", "poststop"] }],
    });
  });

  it("logs why it skipped each entry that is not a hook", async () => {
    const { log, lines } = capturingLog<{ hook?: string }>();
    await scanGuestHooks(dir, log);
    const skipped = lines.filter((l) => l.level === "warn").map((l) => [l.hook?.slice(dir.length), l.msg]);
    assert.deepEqual(skipped, [
      ["/prestart/link-to-a", "skipping guest hook: it is a symbolic link"],
      ["/prestart/readme", "skipping guest hook: it is not executable"],
      ["/prestart/subdir", "skipping guest hook: it is not a regular file"],
    ]);
    assert.ok(lines.some((l) => l.level === "info" && l.msg === "no guest hooks of this type"));
  });

  it("gives absolute hook paths for a relative directory", async () => {
    const { log } = capturingLog();
    const relative = join("..", "..", "..", "..", "..", "..", "..", "..", dir);
    const hooks = await scanGuestHooks(relative, log);
    assert.equal(hooks.poststop[0]?.path, join(dir, "poststop", "cleanup"));
  });

  it("gives no hooks, without throwing, for a missing directory", async () => {
    const { log } = capturingLog();
    assert.deepEqual(await scanGuestHooks(join(dir, "missing"), log), {
      prestart: [],
      poststart: [],
      poststop: [],
    });
  });

  it("gives no hooks of a type whose entry is not a directory, and warns", async () => {
    const other = await mkdtemp(join(tmpdir(), "berth-guest-hooks-"));
    try {
      await writeFile(join(other, "poststart"), "a file, not a directory");
      const { log, lines } = capturingLog();
      assert.deepEqual((await scanGuestHooks(other, log)).poststart, []);
      assert.ok(lines.some((l) => l.level === "warn" && /cannot read the guest hook directory/.test(l.msg)));
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});
