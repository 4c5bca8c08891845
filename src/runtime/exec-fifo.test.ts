import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import { EXEC_FIFO, startByExecFifo } from "./exec-fifo.js";

describe("startByExecFifo", () => {
  const dirs: string[] = [];
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /** A state dir with an exec FIFO, as `runc create` leaves it. */
  function stateDir(): string {
    const dir = mkdtempSync(join(tmpdir(), "berth-exec-fifo-"));
    dirs.push(dir);
    execFileSync("mkfifo", [join(dir, EXEC_FIFO)]);
    return dir;
  }

  /** A stand-in for runc's init: blocks opening the FIFO to write, writes "0" once a reader came, exits. */
  function waitingInit(dir: string): Promise<unknown> {
    const init = spawn("sh", ["-c", `printf 0 > ${join(dir, EXEC_FIFO)}`], { stdio: "ignore" });
    return new Promise((resolve) => init.once("exit", resolve));
  }

  const alive = async () => true;
  const dead = async () => false;

  const rejectsWith = (code: Code, message: RegExp) => (error: unknown) =>
    error instanceof AgentError && error.code === code && message.test(error.message);

  it("reads what the waiting init writes and removes the FIFO, as runc start does", async () => {
    const dir = stateDir();
    const initExited = waitingInit(dir);
    await startByExecFifo(dir, { timeoutMs: 5000, initAlive: alive });
    assert.ok(!existsSync(join(dir, EXEC_FIFO)));
    await initExited;
  });

  it("refuses a container started already (no FIFO) and one whose init died (nothing written)", async () => {
    const dir = stateDir();
    await assert.rejects(
      startByExecFifo(dir, { timeoutMs: 5000, initAlive: dead }),
      rejectsWith(Code.FAILED_PRECONDITION, /already dead/),
    );
    rmSync(join(dir, EXEC_FIFO));
    await assert.rejects(
      startByExecFifo(dir, { timeoutMs: 5000, initAlive: alive }),
      rejectsWith(Code.FAILED_PRECONDITION, /already running/),
    );
  });

  it("ends with its signal or its timeout while the init has opened the FIFO but not closed it, keeping the FIFO", async () => {
    const dir = stateDir();
    const holder = spawn("sh", ["-c", `exec 3> ${join(dir, EXEC_FIFO)}; sleep 30`], { stdio: "ignore" });
    try {
      await assert.rejects(
        startByExecFifo(dir, { timeoutMs: 5000, initAlive: alive, signal: AbortSignal.timeout(100) }),
        (error: unknown) => error instanceof AgentError,
      );
      await assert.rejects(
        startByExecFifo(dir, { timeoutMs: 100, initAlive: alive }),
        rejectsWith(Code.DEADLINE_EXCEEDED, /no end/),
      );
      assert.ok(existsSync(join(dir, EXEC_FIFO)));
    } finally {
      holder.kill("SIGKILL");
    }
  });
});
