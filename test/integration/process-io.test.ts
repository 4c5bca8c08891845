import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { Code } from "../../src/protocol/ttrpc/code.js";
import { TtrpcError } from "../../src/protocol/ttrpc/status.js";
import { sandboxFixture } from "../support/container-fixture.js";
import {
  exec,
  inContainer,
  readAll,
  readExactly,
  sleep,
  T,
  untilLive,
  waitFor,
} from "../support/process-helpers.js";

const TEST = { timeout: 60_000 };

describe("process stdio through ReadStdout, ReadStderr, WriteStdin, CloseStdin and TtyWinResize", () => {
  const f = sandboxFixture("io");

  it(
    "serves the init process's stdio by exec id '', the container id and the CreateContainer exec id",
    TEST,
    async () => {
      const script = 'read line; echo "out:$line"; echo "err:$line" >&2; exit 5';
      await inContainer(
        f,
        "initio",
        async () => {
          const { len } = await f.rpc.call(
            "writeStdin",
            { containerId: "initio", execId: "", data: Buffer.from("hello\n") },
            T,
          );
          assert.equal(len, 6);
          const [out, err] = await Promise.all([
            readAll(f, "readStdout", "initio", "initio"),
            readAll(f, "readStderr", "initio", "init-exec"),
          ]);
          assert.equal(out.toString(), "out:hello\n");
          assert.equal(err.toString(), "err:hello\n");
          assert.equal(await waitFor(f, "initio", ""), 5);
        },
        ["sh", "-c", script],
        "init-exec",
      );
    },
  );

  /** `seq 1 5000` exits at once; its ~29 KB wait in the pipe and are read `delayMs` after the exit. */
  const seqReadAfterExit = (id: string, delayMs: number) =>
    inContainer(f, id, async () => {
      await exec(f, id, "seq", ["seq", "1", "5000"]);
      await untilLive(id, 1); // only the init is left: seq has exited, its output waits in the pipe
      await sleep(delayMs);
      const first = await f.rpc.call("readStdout", { containerId: id, execId: "seq", len: 10 }, T);
      assert.ok(first.data.length > 0 && first.data.length <= 10, `first read: ${first.data.length} bytes`);
      const rest = await readAll(f, "readStdout", id, "seq", { len: 4096 });
      const text = Buffer.concat([first.data, rest]).toString();
      const want = `${Array.from({ length: 5000 }, (_, i) => i + 1).join("\n")}\n`;
      assert.equal(text.length, want.length, "no byte lost");
      assert.equal(text, want);
      assert.equal((await readAll(f, "readStderr", id, "seq")).length, 0);
      assert.equal(await waitFor(f, id, "seq"), 0);
    });

  it("delivers all 5,000 lines, in order, of a process that exited before the first read", TEST, () =>
    seqReadAfterExit("io-seq", 0),
  );

  it(
    "keeps a dead process's unread output past the ~500 ms drain window: the window bounds waiting, not data",
    TEST,
    () => seqReadAfterExit("io-seq-late", 800),
  );

  it(
    "reads stdout and stderr concurrently: a writer blocked on a full stderr pipe does not stall stdout",
    TEST,
    async () => {
      // Four blocks of ~135 KiB, taking turns: stderr, stdout, stderr, stdout. Each block is more than a pipe
      // holds, so the writer blocks on one stream while the other has nothing to read: a ReadStdout that
      // waits for data must not keep a ReadStderr from draining (nor the other way round).
      const lines = 1500;
      const pad = "x".repeat(80);
      const script = [
        "b=0",
        "while [ $b -lt 4 ]; do",
        "  i=0",
        '  while [ $i -lt "$1" ]; do',
        '    if [ $((b % 2)) -eq 0 ]; then printf "err %d %05d %s\\n" $b $i "$2" >&2;',
        '    else printf "out %d %05d %s\\n" $b $i "$2"; fi',
        "    i=$((i+1))",
        "  done",
        "  b=$((b+1))",
        "done",
      ].join("\n");
      const want = (tag: string, blocks: number[]) =>
        blocks
          .flatMap((b) =>
            Array.from({ length: lines }, (_, i) => `${tag} ${b} ${String(i).padStart(5, "0")} ${pad}\n`),
          )
          .join("");
      await inContainer(f, "io-both", async () => {
        await exec(f, "io-both", "both", ["sh", "-c", script, "sh", String(lines), pad]);
        const [out, err] = await Promise.all([
          readAll(f, "readStdout", "io-both", "both"),
          readAll(f, "readStderr", "io-both", "both"),
        ]);
        assert.ok(out.length > 256 << 10 && err.length > 256 << 10);
        assert.equal(out.toString(), want("out", [1, 3]));
        assert.equal(err.toString(), want("err", [0, 2]));
        assert.equal(await waitFor(f, "io-both", "both"), 0);
      });
    },
  );

  it("echoes WriteStdin through cat, byte for byte, and CloseStdin ends it", TEST, async () => {
    await inContainer(f, "io-cat", async () => {
      await exec(f, "io-cat", "cat", ["cat"]);
      const hello = await f.rpc.call(
        "writeStdin",
        { containerId: "io-cat", execId: "cat", data: Buffer.from("hello\n") },
        T,
      );
      assert.equal(hello.len, 6);
      assert.equal((await readExactly(f, "io-cat", "cat", 6)).toString(), "hello\n");

      // 256 KiB + a bit, in chunks, read back while it is written (cat blocks once its stdout pipe is full).
      const payload = randomBytes((256 << 10) + 123);
      const chunk = 32 << 10;
      const writer = (async () => {
        for (let at = 0; at < payload.length; at += chunk) {
          const data = payload.subarray(at, at + chunk);
          const { len } = await f.rpc.call("writeStdin", { containerId: "io-cat", execId: "cat", data }, T);
          assert.equal(len, data.length);
        }
        await f.rpc.call("closeStdin", { containerId: "io-cat", execId: "cat" }, T);
      })();
      const [echoed] = await Promise.all([readAll(f, "readStdout", "io-cat", "cat"), writer]);
      assert.equal(echoed.length, payload.length);
      assert.ok(echoed.equals(payload), "cat echoed the payload unchanged");
      assert.equal(await waitFor(f, "io-cat", "cat"), 0);
    });
  });

  it("closes stdin on a WriteStdin with empty data", TEST, async () => {
    await inContainer(f, "io-wc", async () => {
      await exec(f, "io-wc", "wc", ["wc", "-c"]);
      const abc = await f.rpc.call(
        "writeStdin",
        { containerId: "io-wc", execId: "wc", data: Buffer.from("abc") },
        T,
      );
      assert.equal(abc.len, 3);
      const end = await f.rpc.call(
        "writeStdin",
        { containerId: "io-wc", execId: "wc", data: new Uint8Array(0) },
        T,
      );
      assert.equal(end.len, 0);
      assert.equal((await readAll(f, "readStdout", "io-wc", "wc")).toString().trim(), "3");
      assert.equal(await waitFor(f, "io-wc", "wc"), 0);
    });
  });

  it("gives a tty exec a pty whose size TtyWinResize sets, as `stty size` sees it", TEST, async () => {
    await inContainer(f, "io-tty", async () => {
      // The process waits for a line so that the resize surely comes before `stty size` runs.
      await exec(f, "io-tty", "tty", ["sh", "-c", "read go; test -t 0 && test -t 1 && stty size"], {
        terminal: true,
      });
      await f.rpc.call("ttyWinResize", { containerId: "io-tty", execId: "tty", row: 40, column: 120 }, T);
      const { len } = await f.rpc.call(
        "writeStdin",
        { containerId: "io-tty", execId: "tty", data: Buffer.from("go\n") },
        T,
      );
      assert.equal(len, 3);
      const text = (await readAll(f, "readStdout", "io-tty", "tty")).toString();
      assert.match(text, /^40 120\r?$/m, `pty output: ${JSON.stringify(text)}`);
      assert.equal(await waitFor(f, "io-tty", "tty"), 0);
    });
  });

  it("refuses TtyWinResize for a process without a terminal", TEST, async () => {
    await inContainer(f, "io-notty", async () => {
      await exec(f, "io-notty", "notty", ["sleep", "1000"]);
      await assert.rejects(
        f.rpc.call("ttyWinResize", { containerId: "io-notty", execId: "notty", row: 40, column: 120 }, T),
        (e: unknown) => e instanceof TtrpcError && e.code !== Code.OK && /tty|terminal/i.test(e.message),
      );
      await f.rpc.call("signalProcess", { containerId: "io-notty", execId: "notty", signal: 9 }, T);
      assert.equal(await waitFor(f, "io-notty", "notty"), 137);
    });
  });

  it(
    "returns EOF and the exit status promptly when a background child keeps the pipes open",
    TEST,
    async () => {
      await inContainer(f, "io-bg", async () => {
        await exec(f, "io-bg", "bg", ["sh", "-c", "sleep 1000 & echo x"]);
        const t0 = performance.now();
        const [out, err] = await Promise.all([
          readAll(f, "readStdout", "io-bg", "bg"),
          readAll(f, "readStderr", "io-bg", "bg"),
        ]);
        const eof = performance.now() - t0;
        assert.equal(out.toString(), "x\n");
        assert.equal(err.length, 0);
        assert.ok(eof < 2000, `EOF came ${eof.toFixed(0)} ms after the exec`);
        assert.equal(await waitFor(f, "io-bg", "bg"), 0);
        const waited = performance.now() - t0;
        assert.ok(waited < 2500, `WaitProcess returned ${waited.toFixed(0)} ms after the exec`);
      });
    },
  );
});
