import assert from "node:assert/strict";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AGENT_BIN, startAgent } from "../support/agent-process.js";

const BIN_DIR = dirname(AGENT_BIN);
const PACKAGE_DIR = join(BIN_DIR, "..", "..");

const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");

/**
 * dist/bin/berth-agent, the launcher: a copy of the built package in a temporary directory, so that its
 * blob can be made stale without touching the one other tests use.
 */
describe("the berth-agent launcher", () => {
  let root: string;
  let bin: string;

  before(() => {
    root = mkdtempSync(join(tmpdir(), "berth-launcher-"));
    const copyBin = join(root, "dist", "bin");
    mkdirSync(copyBin, { recursive: true });
    for (const name of ["berth-agent", "berth-agent.blob", "berth-agent.js", "berth-grpc.cjs", "chunks"]) {
      cpSync(join(BIN_DIR, name), join(copyBin, name), { recursive: true, preserveTimestamps: true });
    }
    symlinkSync(join(PACKAGE_DIR, "build"), join(root, "build"));
    writeFileSync(join(root, "binding.gyp"), "{}\n");
    bin = join(root, "kata-agent");
    symlinkSync(join(copyBin, "berth-agent"), bin);
  });

  after(() => rmSync(root, { recursive: true, force: true }));

  it("starts the agent from its start-up snapshot, also through a symlink (kata-agent)", async () => {
    const agent = await startAgent({ bin });
    try {
      const argv = cmdline(agent.pid);
      assert.equal(argv[argv.indexOf("--snapshot-blob") + 1], join(root, "dist", "bin", "berth-agent.blob"));
      await agent.waitForLog((l) => l.msg === "listening");
    } finally {
      await agent.stop();
    }
  });

  it("finds its package from a blob given as --snapshot-blob=PATH too", async () => {
    const blob = join(root, "dist", "bin", "berth-agent.blob");
    const script = join(root, "equals-form");
    writeFileSync(
      script,
      `#!/bin/sh\nexec ${process.execPath} --max-semi-space-size=1 --snapshot-blob=${blob} -- "$@"\n`,
      { mode: 0o755 },
    );
    const agent = await startAgent({ bin: script });
    try {
      assert.ok(cmdline(agent.pid).includes(`--snapshot-blob=${blob}`));
      await agent.waitForLog((l) => l.msg === "listening");
    } finally {
      await agent.stop();
    }
  });

  it("starts the plain bundle when node is newer than the snapshot", async () => {
    const longAgo = new Date("2001-01-01T00:00:00Z");
    utimesSync(join(root, "dist", "bin", "berth-agent.blob"), longAgo, longAgo);
    const agent = await startAgent({ bin });
    try {
      const argv = cmdline(agent.pid);
      assert.ok(!argv.includes("--snapshot-blob"), argv.join(" "));
      assert.ok(argv.includes(join(root, "dist", "bin", "berth-agent.js")), argv.join(" "));
    } finally {
      await agent.stop();
    }
  });
});
