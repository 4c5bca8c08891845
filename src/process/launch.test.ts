import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { launchWithStdio } from "./launch.js";

const dir = mkdtempSync(join(tmpdir(), "berth-launch-"));
const options = { socketDir: dir, outputPipeSize: 0 };
const openFds = () => readdirSync("/proc/self/fd").length;

/** Dials `path` and hangs up without sending, as runc does when a hook fails after setupIO. */
async function dialAndHangUp(path: string) {
  const child = spawn("python3", [
    "-c",
    "import socket,sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])",
    path,
  ]);
  await once(child, "exit");
}

describe("launchWithStdio", () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("review #1: a terminal launch whose runc hangs up the console and then fails rejects with runc's reason, nothing unobserved", async () => {
    const before = openFds();
    const runcFailed = new Error("runc create failed: prestart hook /bin/false exited 1");
    const launch = launchWithStdio(true, options, async ({ consoleSocket }) => {
      assert.ok(consoleSocket);
      await dialAndHangUp(consoleSocket);
      await sleep(100); // the console's EBADMSG comes first; runc's error later
      throw runcFailed;
    });
    await assert.rejects(launch, (e) => e === runcFailed);
    assert.deepEqual(readdirSync(dir), [], "the console socket is removed");
    assert.equal(openFds(), before, "no fd left open");
  });

  it("review #1: the console wait lasts as long as runc does, then gives the master a short while", async () => {
    const launch = launchWithStdio(true, options, async () => {
      await sleep(300);
    });
    await assert.rejects(launch, /no pty master from runc/);
    assert.deepEqual(readdirSync(dir), []);
  });

  it("hands the pipes' ends to the process and keeps the host's", async () => {
    let fds: unknown;
    const io = await launchWithStdio(false, options, async (stdio) => {
      fds = stdio.fds;
    });
    try {
      assert.ok(fds && io.stdin && io.stdout && io.stderr && !io.terminal);
    } finally {
      io.close();
    }
  });
});
