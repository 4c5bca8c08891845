import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "../errors.js";
import { CommandError, runCommand, runningCommandPids } from "./exec.js";

async function failure(promise: Promise<unknown>): Promise<CommandError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof CommandError, String(error));
    return error;
  }
  assert.fail("the command succeeded");
}

describe("runCommand()", () => {
  it("returns stdout and stderr of a command that exits 0, feeding it stdin", async () => {
    const { stdout, stderr } = await runCommand(["sh", "-c", "cat; echo err >&2"], { input: "in put" });
    assert.equal(stdout, "in put");
    assert.equal(stderr, "err\n");
    assert.equal(runningCommandPids().size, 0);
  });

  it("fails with the exit code and trimmed stderr in the message", async () => {
    const e = await failure(runCommand(["sh", "-c", "echo '  bad thing  ' >&2; exit 3"]));
    assert.equal(e.exitCode, 3);
    assert.equal(e.stderr, "bad thing");
    assert.equal(e.code, Code.INTERNAL);
    assert.equal(e.message, "sh -c \"echo '  bad thing  ' >&2; exit 3\": exited with 3: bad thing");
  });

  it("kills a command that outlives its timeout: DEADLINE_EXCEEDED", async () => {
    const start = Date.now();
    const e = await failure(runCommand(["sleep", "10"], { timeoutMs: 50 }));
    assert.equal(e.code, Code.DEADLINE_EXCEEDED);
    assert.equal(e.signal, "SIGKILL");
    assert.ok(Date.now() - start < 2000);
  });

  it("kills a command when its signal aborts: CANCELLED", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    assert.equal((await failure(runCommand(["sleep", "10"], { signal: ac.signal }))).code, Code.CANCELLED);
  });

  it("reports a missing program as NOT_FOUND", async () => {
    const e = await failure(runCommand(["/nonexistent/berth-test-binary"]));
    assert.equal(e.code, Code.NOT_FOUND);
  });

  it("keeps at most maxOutputBytes of output", async () => {
    const { stdout } = await runCommand(["sh", "-c", "yes | head -c 100000"], { maxOutputBytes: 1000 });
    assert.equal(stdout.length, 1000);
  });
});

/** Pids whose command line is exactly `argv` (none: pgrep exits 1). */
async function processesRunning(argv: string): Promise<string> {
  return runCommand(["pgrep", "-xf", argv]).then(
    (r) => r.stdout.trim(),
    () => "",
  );
}

describe("runCommand() with processGroup", () => {
  for (const [how, options] of [
    ["at its timeout", () => ({ timeoutMs: 300 })],
    ["when aborted", () => ({ signal: AbortSignal.timeout(300) })],
  ] as const) {
    it(`kills what the command started along with it ${how}`, async () => {
      const child = `sleep 31.${process.pid}`;
      const run = runCommand(["sh", "-c", `${child} & wait`], { ...options(), processGroup: true });
      const e = await failure(run);
      assert.ok(e.code === Code.DEADLINE_EXCEEDED || e.code === Code.CANCELLED, e.message);
      assert.equal(await processesRunning(child), "");
    });
  }
});
