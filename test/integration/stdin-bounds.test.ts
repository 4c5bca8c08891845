import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "../../src/protocol/ttrpc/code.js";
import { TtrpcError } from "../../src/protocol/ttrpc/status.js";
import { sandboxFixture } from "../support/container-fixture.js";
import { exec, inContainer, readAll, readExactly, signal, T, waitFor } from "../support/process-helpers.js";

const TEST = { timeout: 120_000 };
const MiB = 1 << 20;

const failedWith = (code: Code) => (e: unknown) => e instanceof TtrpcError && e.code === code;

describe("WriteStdin to a process that does not read", () => {
  const f = sandboxFixture("stdin");

  /** Health.Check answers within a second. */
  const assertServing = async () => {
    const t0 = performance.now();
    await f.rpc.client.call("grpc.Health", "Check", new Uint8Array(0), { timeoutMs: 1000 });
    const took = performance.now() - t0;
    assert.ok(took < 1000, `Health.Check took ${took.toFixed(0)} ms`);
  };

  it(
    "review #2: a WriteStdin larger than a raw-mode pty takes leaves the agent serving, and ends at its deadline",
    TEST,
    async () => {
      const id = "stdin-tty";
      await f.rpc.call(
        "createContainer",
        {
          containerId: id,
          execId: id,
          OCI: f.spec(["sh", "-c", "stty raw -echo; echo ready; sleep 1000"], { terminal: true }),
        },
        T,
      );
      try {
        await f.rpc.call("startContainer", { containerId: id }, T);
        let seen = "";
        while (!seen.includes("ready")) seen += (await readExactly(f, id, id, 1)).toString();
        const t0 = performance.now();
        const write = f.rpc.call(
          "writeStdin",
          { containerId: id, execId: id, data: Buffer.alloc(200_000, 0x61) },
          3000,
        );
        const outcome = write.then(
          () => "written",
          (e: unknown) => e,
        );
        await assertServing();
        assert.ok(
          failedWith(Code.DEADLINE_EXCEEDED)(await outcome),
          "nobody reads: the write waits out its deadline",
        );
        assert.ok(performance.now() - t0 < 5000);
        // What the first write had left is dropped: a write over the queue's limit is admitted again.
        await assert.rejects(
          f.rpc.call("writeStdin", { containerId: id, execId: id, data: Buffer.alloc(2 * MiB, 0x62) }, 500),
          failedWith(Code.DEADLINE_EXCEEDED),
        );
        await signal(f, id, id, 9);
        assert.equal(await waitFor(f, id, id), 137);
      } finally {
        await f.rpc.call("removeContainer", { containerId: id }, T);
      }
      f.assertNoContainerLeft([id]);
      await assertServing();
    },
  );

  it(
    "review #7: 250 WriteStdin of 4 MiB to a process that does not read keep the agent's memory bounded",
    TEST,
    async () => {
      await inContainer(f, "stdin-flood", async () => {
        await exec(f, "stdin-flood", "idle", ["sleep", "1000"]);
        const data = Buffer.alloc(4 * MiB - 200, 0x61);
        const before = f.agent.rssKiB();
        let peak = before;
        const outcomes: unknown[] = [];
        let next = 0;
        const worker = async () => {
          while (next < 250) {
            next++;
            const call = f.rpc.call("writeStdin", { containerId: "stdin-flood", execId: "idle", data }, 3000);
            outcomes.push(
              await call.then(
                () => "written",
                (e: unknown) => e,
              ),
            );
            peak = Math.max(peak, f.agent.rssKiB());
          }
        };
        await Promise.all(Array.from({ length: 32 }, worker));
        const grew = (peak - before) / 1024;
        assert.ok(grew < 256, `agent RSS grew by ${grew.toFixed(0)} MiB`);
        const exhausted = outcomes.filter(failedWith(Code.RESOURCE_EXHAUSTED));
        const timedOut = outcomes.filter(failedWith(Code.DEADLINE_EXCEEDED));
        assert.equal(exhausted.length + timedOut.length, 250, "every write was refused or timed out");
        assert.ok(exhausted.length > 200, `${exhausted.length} refused at once`);
        const refusal = exhausted[0] as TtrpcError;
        assert.match(refusal.message, /not reading its stdin/);
        await assertServing();
        await signal(f, "stdin-flood", "idle", 9);
        assert.equal(await waitFor(f, "stdin-flood", "idle"), 137);
      });
    },
  );

  it("review #7: the bytes of a WriteStdin that timed out are never written later", TEST, async () => {
    await inContainer(f, "stdin-late", async () => {
      // The process starts reading 3 s after it starts: by then the first write has timed out.
      await exec(f, "stdin-late", "late", ["sh", "-c", "sleep 3; exec cat"]);
      await assert.rejects(
        f.rpc.call(
          "writeStdin",
          { containerId: "stdin-late", execId: "late", data: Buffer.alloc(300 << 10, 0x61) },
          700,
        ),
        failedWith(Code.DEADLINE_EXCEEDED),
      );
      const mark = await f.rpc.call(
        "writeStdin",
        { containerId: "stdin-late", execId: "late", data: Buffer.from("MARK\n") },
        T,
      );
      assert.equal(mark.len, 5);
      await f.rpc.call("closeStdin", { containerId: "stdin-late", execId: "late" }, T);
      const out = (await readAll(f, "readStdout", "stdin-late", "late")).toString();
      const before = out.length - "MARK\n".length;
      assert.ok(out.endsWith("MARK\n"), "the later write arrives");
      assert.equal(out.slice(0, before), "a".repeat(before));
      assert.ok(
        before <= 64 << 10,
        `${before} bytes of the timed-out write reached the process: at most a pipeful`,
      );
      assert.equal(await waitFor(f, "stdin-late", "late"), 0);
    });
  });
});
