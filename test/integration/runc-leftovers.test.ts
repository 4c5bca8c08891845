import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AgentError, Code } from "../../src/errors.js";
import { Runc } from "../../src/runtime/runc.js";
import { makeBusyboxRootfs } from "../support/busybox-rootfs.js";
import { cgroupDirs } from "../support/leftovers.js";

const TEST = { timeout: 60_000 };

/**
 * runc's own killed-create leftovers, and deleteLeftovers, without the agent: the method restart recovery
 * calls for every id it finds in runc's root, most with no bundle left.
 */
describe("Runc.deleteLeftovers()", () => {
  let dir: string;
  let root: string;
  let devNull: number;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "berth-runc-leftovers-"));
    root = join(dir, "runc");
    makeBusyboxRootfs(join(dir, "bundle", "rootfs"));
    devNull = openSync("/dev/null", "r+");
  });
  after(() => {
    closeSync(devNull);
    rmSync(dir, { recursive: true, force: true });
  });

  /** A bundle whose process sleeps; `hook` seconds of prestart hook; `cgroupsPath` if given. */
  function bundle(o: { hook?: string; cgroupsPath?: string } = {}): string {
    const path = join(dir, "bundle");
    rmSync(join(path, "config.json"), { force: true });
    execFileSync("runc", ["spec", "--bundle", path]);
    const spec = JSON.parse(readFileSync(join(path, "config.json"), "utf8"));
    spec.process.terminal = false;
    spec.process.args = ["sleep", "1000"];
    spec.root.readonly = false;
    if (o.hook) spec.hooks = { prestart: [{ path: "/bin/sleep", args: ["sleep", o.hook] }] };
    if (o.cgroupsPath) spec.linux.cgroupsPath = o.cgroupsPath;
    writeFileSync(join(path, "config.json"), JSON.stringify(spec));
    return path;
  }

  const create = (runc: Runc, id: string, bundleDir: string) =>
    runc.create(
      id,
      { bundle: bundleDir, pidFile: join(dir, `${id}.pid`), noPivot: false },
      { stdio: { stdin: devNull, stdout: devNull, stderr: devNull } },
    );

  const running = (cmdline: string) => {
    try {
      return execFileSync("pgrep", ["-xf", cmdline], { encoding: "utf8" }).trim();
    } catch {
      return "";
    }
  };

  it(
    "review #11: removes what a runc create killed at its timeout left (no state.json), with no bundle to read",
    TEST,
    async () => {
      const hasty = new Runc({ root, timeoutMs: 1000 });
      await assert.rejects(
        create(hasty, "lo1", bundle({ hook: "3.11" })),
        (e: unknown) => e instanceof AgentError && e.code === Code.DEADLINE_EXCEEDED,
      );
      assert.ok(existsSync(join(root, "lo1")), "runc left its state dir");
      assert.ok(!existsSync(join(root, "lo1", "state.json")));
      assert.notDeepEqual(cgroupDirs("lo1"), [], "runc left cgroups");
      assert.equal(running("sleep 3.11"), "", "the hook died with runc");

      const runc = new Runc({ root });
      await runc.deleteLeftovers("lo1");
      assert.ok(!existsSync(join(root, "lo1")));
      assert.deepEqual(cgroupDirs("lo1"), []);

      await create(runc, "lo1", bundle());
      await runc.deleteLeftovers("lo1", { bundle: join(dir, "bundle") });
      assert.deepEqual(
        readdirSync(root).filter((e) => !e.startsWith(".")),
        [],
      );
      assert.deepEqual(cgroupDirs("lo1"), []);
      await runc.deleteLeftovers("lo1");
    },
  );

  it(
    "review #11: finds the cgroups of an explicit cgroups path in the bundle's config.json",
    TEST,
    async () => {
      const parent = "berth-leftovers-test";
      try {
        await assert.rejects(
          create(
            new Runc({ root, timeoutMs: 1000 }),
            "lo2",
            bundle({ hook: "3.12", cgroupsPath: `/${parent}/lo2` }),
          ),
        );
        assert.notDeepEqual(cgroupDirs("lo2"), []);
        await new Runc({ root }).deleteLeftovers("lo2", { bundle: join(dir, "bundle") });
        assert.deepEqual(cgroupDirs("lo2"), []);
        assert.ok(!existsSync(join(root, "lo2")));
      } finally {
        for (const d of cgroupDirs(parent)) rmdirSync(d);
      }
    },
  );

  it("refuses an id that would name runc's root or a path outside it", TEST, async () => {
    for (const id of ["", ".", "..", "a/b"]) {
      await assert.rejects(
        new Runc({ root }).deleteLeftovers(id),
        (e: unknown) => e instanceof AgentError && e.code === Code.INVALID_ARGUMENT,
      );
    }
  });
});
