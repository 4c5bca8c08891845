import assert from "node:assert/strict";
import { constants } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Code } from "../../src/protocol/ttrpc/code.js";
import { TtrpcError } from "../../src/protocol/ttrpc/status.js";
import { failsWith, sandboxFixture } from "../support/container-fixture.js";
import {
  exec,
  inContainer,
  livePids,
  readOrEmpty,
  signal,
  sleep,
  stillPending,
  untilLive,
  waitFor,
} from "../support/process-helpers.js";

const TEST = { timeout: 60_000 };
const { SIGKILL, SIGTERM } = constants.signals;

describe("ExecProcess, WaitProcess and SignalProcess", () => {
  const f = sandboxFixture("signals");

  it("reports exit codes 0 and 7, 137 for an exec killed by SIGKILL, and the init's own", TEST, async () => {
    await inContainer(f, "codes", async () => {
      await exec(f, "codes", "zero", ["true"]);
      assert.equal(await waitFor(f, "codes", "zero"), 0);
      await exec(f, "codes", "seven", ["sh", "-c", "exit 7"]);
      assert.equal(await waitFor(f, "codes", "seven"), 7);
      await exec(f, "codes", "killed", ["sleep", "1000"]);
      await signal(f, "codes", "killed", SIGKILL);
      assert.equal(await waitFor(f, "codes", "killed"), 137);
    });
    await inContainer(f, "initcode", async () => assert.equal(await waitFor(f, "initcode", ""), 42), [
      "sh",
      "-c",
      "exit 42",
    ]);
  });

  it(
    "gives every concurrent waiter the status, then answers NOT_FOUND and lets the exec id be reused",
    TEST,
    async () => {
      await inContainer(f, "waits", async () => {
        await exec(f, "waits", "w", ["sh", "-c", "sleep 0.3; exit 4"]);
        const statuses = await Promise.all(Array.from({ length: 5 }, () => waitFor(f, "waits", "w")));
        assert.deepEqual(statuses, [4, 4, 4, 4, 4]);
        await assert.rejects(waitFor(f, "waits", "w"), failsWith(Code.NOT_FOUND, /w/));
        await assert.rejects(waitFor(f, "waits", "never-ran"), failsWith(Code.NOT_FOUND, /never-ran/));
        await exec(f, "waits", "w", ["sh", "-c", "exit 6"]);
        assert.equal(await waitFor(f, "waits", "w"), 6);
      });
    },
  );

  it(
    "signals one exec alone, and with exec id '' and SIGKILL every process of the container, init included",
    TEST,
    async () => {
      await inContainer(f, "sig", async () => {
        await exec(f, "sig", "a", ["sleep", "1000"]);
        await exec(f, "sig", "b", ["sleep", "1000"]);
        await untilLive("sig", 3);
        await signal(f, "sig", "a", SIGTERM);
        assert.equal(await waitFor(f, "sig", "a"), 128 + SIGTERM);
        const waitB = waitFor(f, "sig", "b");
        const waitInit = waitFor(f, "sig", "sig");
        assert.ok(await stillPending(waitB, 300), "b is untouched by a signal to a");
        assert.ok(await stillPending(waitInit, 0), "so is the init");
        assert.equal(livePids("sig").length, 2);

        await signal(f, "sig", "", SIGKILL);
        assert.deepEqual(await Promise.all([waitB, waitInit]), [137, 137]);
        await untilLive("sig", 0, 5000);
      });
    },
  );

  it(
    "sends SIGTERM to a bare `sleep` init as SIGKILL (PID 1 ignores unhandled signals): 137, also at once after its start",
    TEST,
    async () => {
      // A start returns while the exec of the program may still show runc's init and its signal masks.
      for (let i = 0; i < 8; i++) {
        await inContainer(f, `term${i}`, async () => {
          await signal(f, `term${i}`, "", SIGTERM);
          assert.equal(await waitFor(f, `term${i}`, "", 10_000), 137);
        });
      }
    },
  );

  it("delivers SIGTERM as SIGTERM to an init that handles it", TEST, async () => {
    const script = 'trap "exit 9" TERM; echo ready > /out/trap-ready; while :; do sleep 0.1; done';
    await inContainer(
      f,
      "trap",
      async () => {
        const deadline = Date.now() + 10_000;
        while (!readOrEmpty(join(f.out, "trap-ready"))) {
          assert.ok(Date.now() < deadline, "the init never set its trap");
          await sleep(20);
        }
        await signal(f, "trap", "", SIGTERM);
        assert.equal(await waitFor(f, "trap", "", 10_000), 9);
      },
      ["sh", "-c", script],
    );
  });

  it("accepts a signal to an exec that has exited but was not waited for", TEST, async () => {
    await inContainer(f, "exited", async () => {
      await exec(f, "exited", "gone", ["true"]);
      await untilLive("exited", 1);
      await signal(f, "exited", "gone", SIGKILL);
      await signal(f, "exited", "gone", SIGTERM);
      assert.equal(await waitFor(f, "exited", "gone"), 0);
    });
  });

  it(
    "runs 100 concurrent ExecProcess + WaitProcess in one container while blocked calls are pending",
    TEST,
    async () => {
      await inContainer(f, "many", async () => {
        // Blocking calls in flight (a read with nothing to read, a wait on a live process) must hold no lock.
        await exec(f, "many", "blocker", ["sleep", "1000"]);
        const blockedRead = f.rpc.call(
          "readStdout",
          { containerId: "many", execId: "blocker", len: 1024 },
          50_000,
        );
        const blockedWait = waitFor(f, "many", "blocker", 50_000);
        const statuses = await Promise.all(
          Array.from({ length: 100 }, async (_, i) => {
            await exec(f, "many", `c${i}`, ["sh", "-c", `exit ${i}`], { timeoutMs: 40_000 });
            return waitFor(f, "many", `c${i}`, 40_000);
          }),
        );
        assert.deepEqual(
          statuses,
          Array.from({ length: 100 }, (_, i) => i),
        );
        assert.ok(await stillPending(blockedWait, 0), "the blocker is still running");
        await signal(f, "many", "blocker", SIGKILL);
        assert.equal(await blockedWait, 137);
        // The pending read ends too, within the drain window: with EOF, or with an error if WaitProcess
        // closed the stream first; it must not stay blocked.
        const read = await Promise.race([
          blockedRead.then(
            ({ data }) => (data.length === 0 ? "EOF" : `${data.length} bytes`),
            (e: unknown) => (e instanceof TtrpcError ? `error ${e.code}` : String(e)),
          ),
          sleep(3000).then(() => "still blocked after 3 s"),
        ]);
        assert.match(read, /^(EOF|error \d+)$/, "the pending read ended");
      });
    },
  );

  it(
    "fails ExecProcess for an unknown container, a live exec id and a command that cannot start",
    TEST,
    async () => {
      await assert.rejects(
        exec(f, "no-such-container", "x", ["true"]),
        failsWith(Code.NOT_FOUND, /no-such-container/),
      );
      await inContainer(f, "errors", async () => {
        await exec(f, "errors", "dup", ["sleep", "1000"]);
        await assert.rejects(exec(f, "errors", "dup", ["true"]), failsWith(Code.ALREADY_EXISTS, /dup/));
        await signal(f, "errors", "dup", SIGKILL);
        assert.equal(await waitFor(f, "errors", "dup"), 137);
        await exec(f, "errors", "dup", ["true"]);
        assert.equal(await waitFor(f, "errors", "dup"), 0, "a waited exec id can be used again");

        const t0 = performance.now();
        await assert.rejects(
          exec(f, "errors", "nobin", ["/no/such/binary"]),
          failsWith(Code.INTERNAL, /no such file|not found/i),
        );
        const took = performance.now() - t0;
        assert.ok(took < 1000, `the failed exec took ${took.toFixed(0)} ms`);
        await assert.rejects(waitFor(f, "errors", "nobin"), failsWith(Code.NOT_FOUND, /nobin/));
        await exec(f, "errors", "nobin", ["true"]);
        assert.equal(await waitFor(f, "errors", "nobin"), 0, "the failed exec left its id free");
        await untilLive("errors", 1);
      });
    },
  );
});

/**
 * With sandbox_pidns every container joins the sandbox's PID namespace, so a container's init is not PID 1
 * and its death does not take the container's other processes with it: only a kill of every process in
 * the container (its cgroup) does.
 */
describe("SignalProcess in a shared sandbox PID namespace", () => {
  const f = sandboxFixture("shared", { sandboxPidns: true });

  it(
    "kills every process of the container with exec id '' and SIGKILL, not just the init",
    TEST,
    async () => {
      await inContainer(f, "shared-all", async () => {
        await exec(f, "shared-all", "a", ["sleep", "1000"]);
        await exec(f, "shared-all", "b", ["sleep", "1000"]);
        await untilLive("shared-all", 3);
        await signal(f, "shared-all", "a", SIGKILL);
        assert.equal(await waitFor(f, "shared-all", "a"), 137);
        assert.equal(livePids("shared-all").length, 2, "b and the init are untouched");
        await signal(f, "shared-all", "", SIGKILL);
        assert.deepEqual(
          await Promise.all([waitFor(f, "shared-all", "b"), waitFor(f, "shared-all", "")]),
          [137, 137],
        );
        await untilLive("shared-all", 0, 5000);
      });
    },
  );

  it(
    "still kills the container's execs with exec id '' and SIGKILL once its init has exited",
    TEST,
    async () => {
      await inContainer(f, "shared-late", async () => {
        await exec(f, "shared-late", "left", ["sleep", "1000"]);
        await signal(f, "shared-late", "shared-late", SIGKILL); // the init alone
        assert.equal(await waitFor(f, "shared-late", ""), 137);
        assert.equal(livePids("shared-late").length, 1, "the exec outlives the init");
        await signal(f, "shared-late", "", SIGKILL);
        assert.equal(await waitFor(f, "shared-late", "left", 5000), 137);
        await untilLive("shared-late", 0, 5000);
      });
    },
  );
});
