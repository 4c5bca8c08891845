import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Runc } from "../../src/runtime/runc.js";
import { makeBusyboxRootfs } from "../support/busybox-rootfs.js";
import { cgroupDirs, runcContainers } from "../support/leftovers.js";

const TEST = { timeout: 60_000 };

/**
 * Deleting a container runc made: berth does runc 1.x's delete of a stopped container itself, and leaves to
 * runc every case where runc does more. A wrapper in front of runc logs each verb it is asked for.
 */
describe("Runc.deleteLeftovers() of a created container", () => {
  let dir: string;
  let root: string;
  let verbs: string;
  let runc: Runc;
  let devNull: number;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "berth-runc-delete-"));
    root = join(dir, "runc");
    verbs = join(dir, "verbs");
    const wrapper = join(dir, "runc-wrapper");
    writeFileSync(wrapper, `#!/bin/sh\necho "$*" >> ${verbs}\nexec runc "$@"\n`);
    chmodSync(wrapper, 0o755);
    makeBusyboxRootfs(join(dir, "rootfs"));
    runc = new Runc({ root, binary: wrapper });
    devNull = openSync("/dev/null", "r+");
  });
  after(() => {
    closeSync(devNull);
    for (const id of runcContainers(root)) execFileSync("runc", ["--root", root, "delete", "--force", id]);
    rmSync(dir, { recursive: true, force: true });
  });

  /** Creates container `id` running `args`, with `spec` edited as given, and starts it. */
  async function run(id: string, args: string[], edit: (spec: { hooks?: unknown }) => void = () => {}) {
    const bundle = join(dir, id);
    mkdirSync(bundle);
    execFileSync("runc", ["spec", "--bundle", bundle]);
    const spec = JSON.parse(readFileSync(join(bundle, "config.json"), "utf8"));
    spec.root = { path: join(dir, "rootfs") };
    spec.process.terminal = false;
    spec.process.args = args;
    edit(spec);
    writeFileSync(join(bundle, "config.json"), JSON.stringify(spec));
    const pidFile = join(bundle, "init.pid");
    await runc.create(
      id,
      { bundle, pidFile, noPivot: false },
      { stdio: { stdin: devNull, stdout: devNull, stderr: devNull } },
    );
    await runc.start(id);
    return Number(readFileSync(pidFile, "utf8"));
  }

  async function exited(pid: number) {
    for (let i = 0; i < 500 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(!existsSync(`/proc/${pid}`), `init ${pid} exited`);
  }

  const deletes = () =>
    readFileSync(verbs, "utf8")
      .split("\n")
      .filter((line) => / delete /.test(line));

  const gone = (id: string) => {
    assert.deepEqual(runcContainers(root), []);
    assert.ok(!existsSync(join(root, id)), "its state dir is gone");
    assert.deepEqual(cgroupDirs(id), [], "its cgroups are gone");
  };

  it(
    "deletes a stopped container without runc: state dir and every cgroup in its state.json",
    TEST,
    async () => {
      await exited(await run("dl1", ["true"]));
      assert.notDeepEqual(cgroupDirs("dl1"), []);
      await runc.deleteLeftovers("dl1", { created: true });
      gone("dl1");
      assert.deepEqual(deletes(), [], "no runc delete ran");
    },
  );

  it("leaves to runc a container with a poststop hook, which runc runs", TEST, async () => {
    const mark = join(dir, "poststop-ran");
    await exited(
      await run("dl2", ["true"], (spec) => {
        spec.hooks = { poststop: [{ path: "/bin/sh", args: ["sh", "-c", `touch ${mark}`] }] };
      }),
    );
    await runc.deleteLeftovers("dl2", { created: true });
    gone("dl2");
    assert.ok(existsSync(mark), "the poststop hook ran");
    assert.equal(deletes().length, 1);
  });

  it("leaves to runc a container whose init still runs: runc kills it", TEST, async () => {
    const pid = await run("dl3", ["sleep", "1000"]);
    await runc.deleteLeftovers("dl3", { created: true });
    await exited(pid);
    gone("dl3");
    assert.equal(deletes().length, 2);
  });

  it(
    "leaves to runc a stopped container whose cgroup has a cgroup of its own: runc removes both",
    TEST,
    async () => {
      await exited(await run("dl4", ["true"]));
      const [first] = cgroupDirs("dl4");
      assert.ok(first);
      mkdirSync(join(first, "child"));
      try {
        await runc.deleteLeftovers("dl4", { created: true });
        gone("dl4");
        assert.equal(deletes().length, 3);
      } finally {
        if (existsSync(join(first, "child"))) rmdirSync(join(first, "child"));
        if (existsSync(first)) rmdirSync(first);
      }
    },
  );
});
