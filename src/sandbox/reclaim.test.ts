import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { capturingLog } from "../log.test-util.js";
import { Runc } from "../runtime/runc.js";
import { reclaimLeftovers } from "./reclaim.js";

describe("reclaimLeftovers()", async () => {
  const dir = await mkdtemp(join(tmpdir(), "berth-reclaim-"));
  after(() => rm(dir, { recursive: true, force: true }));

  it("reports what it cannot undo, and still does the rest: it never keeps the agent from serving", async () => {
    const paths = {
      runDir: join(dir, "run"),
      sandboxNsDir: join(dir, "ns"),
      resolvConf: join(dir, "resolv.conf"),
      runcRoot: join(dir, "runc-root-is-a-file"),
    };
    await writeFile(paths.runcRoot, "");
    await mkdir(join(paths.runDir, "c1"), { recursive: true });
    const { log, lines } = capturingLog();
    const runc = new Runc({ root: paths.runcRoot, logDir: join(dir, "logs") });
    const done = await reclaimLeftovers({ paths, runc, log });
    assert.equal(done.failures.length, 1);
    assert.match(done.failures[0] ?? "", /^cannot list the runc containers: /);
    assert.deepEqual(done.removed, [join(paths.runDir, "c1")], "the rest was reclaimed");
    assert.ok(lines.some((l) => l.msg === "could not reclaim all a previous agent left"));
  });

  it("finds nothing, and says nothing, where no agent was before", async () => {
    const fresh = join(dir, "fresh");
    const paths = {
      runDir: join(fresh, "run"),
      sandboxNsDir: join(fresh, "ns"),
      resolvConf: join(fresh, "resolv.conf"),
      runcRoot: join(fresh, "runc"),
    };
    const { log, lines } = capturingLog();
    const done = await reclaimLeftovers({ paths, runc: new Runc({ root: paths.runcRoot }), log });
    assert.deepEqual(done, {
      runcCalls: [],
      pause: false,
      containers: [],
      unmounted: [],
      removed: [],
      failures: [],
    });
    assert.deepEqual(lines, []);
  });
});
