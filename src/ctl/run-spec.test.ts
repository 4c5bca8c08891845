import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { CtlError, UsageError } from "./ctl-error.js";
import { DEFAULT_PATH } from "./default-spec.js";
import { execProcess, loadRunSpec, mergeEnv, type RunSpecOptions } from "./run-spec.js";

const dir = mkdtempSync(join(tmpdir(), "berthctl-spec-"));
const options = (more: Partial<RunSpecOptions> = {}): RunSpecOptions => ({
  args: ["sh"],
  env: [],
  tty: false,
  readonly: false,
  ...more,
});

describe("loadRunSpec()", () => {
  after(() => rmSync(dir, { recursive: true, force: true }));
  const rootfs = join(dir, "rootfs");
  mkdirSync(rootfs);
  const bundle = join(dir, "bundle");
  mkdirSync(bundle);
  writeFileSync(
    join(bundle, "config.json"),
    JSON.stringify({
      ociVersion: "1.0.2",
      process: {
        terminal: true,
        user: { uid: 0, gid: 0 },
        args: ["sh"],
        env: ["PATH=/bin", "A=1"],
        cwd: "/",
      },
      root: { path: "rootfs", readonly: true },
      hostname: "runc",
      linux: { namespaces: ["pid", "network", "ipc", "uts", "mount", "cgroup"].map((type) => ({ type })) },
      domainname: "x",
    }),
  );

  it("gives a plain directory the default spec, with the command, environment and terminal asked for", async () => {
    const { spec, warnings } = await loadRunSpec(
      `${rootfs}/`,
      options({ args: ["ls", "-l"], env: ["A=1"], cwd: "/tmp", tty: true, size: { rows: 30, columns: 100 } }),
      {},
    );
    assert.deepEqual(warnings, []);
    assert.deepEqual(spec.Root, { ...spec.Root, Path: rootfs, Readonly: false });
    assert.deepEqual(spec.Process?.Args, ["ls", "-l"]);
    assert.deepEqual(spec.Process?.Env, [DEFAULT_PATH, "TERM=xterm", "A=1"]);
    assert.equal(spec.Process?.Cwd, "/tmp");
    assert.equal(spec.Process?.Terminal, true);
    assert.deepEqual([spec.Process?.ConsoleSize?.Height, spec.Process?.ConsoleSize?.Width], [30, 100]);
    assert.deepEqual(
      spec.Mounts.map((m) => m.destination),
      ["/proc", "/dev", "/dev/pts", "/dev/shm", "/sys"],
    );
    assert.deepEqual(
      spec.Linux?.Namespaces.map((n) => n.Type),
      ["mount"],
    );
  });

  it("takes a bundle's config.json, fitted for the guest, and warns about what it cannot send", async () => {
    const { spec, warnings } = await loadRunSpec(bundle, options({ args: [], readonly: false }), {});
    assert.equal(spec.Root?.Path, join(bundle, "rootfs"));
    assert.equal(spec.Root?.Readonly, true);
    assert.deepEqual(spec.Process?.Args, ["sh"]);
    assert.equal(spec.Process?.Terminal, false, "the terminal follows --tty, not the bundle");
    assert.equal(spec.Hostname, "", "the sandbox owns the hostname");
    assert.deepEqual(
      spec.Linux?.Namespaces.map((n) => n.Type),
      ["ipc", "uts", "mount"],
    );
    assert.deepEqual(warnings, [
      `${join(bundle, "config.json")}: the agent protocol has no field for domainname; ignored`,
    ]);
  });

  it("needs a command when there is none to take", async () => {
    await assert.rejects(loadRunSpec(rootfs, options({ args: [] }), {}), UsageError);
  });

  it("says what is wrong with the directory", async () => {
    await assert.rejects(
      loadRunSpec(join(dir, "missing"), options(), {}),
      /--rootfs .*missing: no such directory/,
    );
    writeFileSync(join(dir, "file"), "");
    await assert.rejects(loadRunSpec(join(dir, "file"), options(), {}), /not a directory/);
    const broken = join(dir, "broken");
    mkdirSync(broken);
    writeFileSync(join(broken, "config.json"), '{"process": ');
    await assert.rejects(
      loadRunSpec(broken, options(), {}),
      (e: unknown) =>
        e instanceof CtlError && /config\.json: invalid JSON at line 1 column 13/.test(e.message),
    );
  });
});

describe("execProcess()", () => {
  it("is root in /, with the default PATH and the options", () => {
    const process = execProcess({ args: ["id"], env: ["HOME"], tty: false }, { HOME: "/root" });
    assert.deepEqual([process.User?.UID, process.Cwd, process.Terminal], [0, "/", false]);
    assert.deepEqual(process.Env, [DEFAULT_PATH, "HOME=/root"]);
    assert.equal(process.ConsoleSize, undefined);
  });
});

describe("mergeEnv()", () => {
  it("replaces or appends K=V, passes berthctl's own value for a bare K, and drops K berthctl lacks", () => {
    assert.deepEqual(mergeEnv(["A=1", "B=2", "C=3"], ["B=x=y", "D=4", "C", "E"], { C: "host" }), [
      "A=1",
      "B=x=y",
      "D=4",
      "C=host",
    ]);
    assert.deepEqual(mergeEnv(["A=1"], ["A"], {}), []);
  });

  it("refuses an entry without a name", () => {
    assert.throws(() => mergeEnv([], ["=1"], {}), UsageError);
  });
});
