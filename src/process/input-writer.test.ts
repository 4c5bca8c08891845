import assert from "node:assert/strict";
import { closeSync, readSync } from "node:fs";
import { after, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { AgentError, Code } from "../errors.js";
import { native } from "../sys/native.js";
import { InputWriter } from "./input-writer.js";

const PIPE = 65536;

/** A pipe whose write end (non-blocking) an InputWriter owns; the test reads the other end. */
function pipeWriter(limit?: number) {
  const [r, w] = native().pipe();
  native().setNonBlocking(w);
  native().setNonBlocking(r);
  return { r, writer: new InputWriter(w, limit) };
}

/** Everything in the pipe now. */
function drain(r: number): Buffer {
  const chunks: Buffer[] = [];
  for (;;) {
    const buf = Buffer.alloc(PIPE);
    try {
      const n = readSync(r, buf);
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
    } catch {
      break;
    }
  }
  return Buffer.concat(chunks);
}

const isCode = (code: Code) => (e: unknown) => e instanceof AgentError && e.code === code;

describe("InputWriter", () => {
  // Polls do not keep a process alive; in the agent, the connection of the call waiting on one does.
  const keepAlive = setInterval(() => {}, 1000);
  after(() => clearInterval(keepAlive));
  it("resolves a write the kernel takes at once, without waiting", async () => {
    const { r, writer } = pipeWriter();
    try {
      assert.equal(await writer.write(Buffer.from("hello")), 5);
      assert.equal(drain(r).toString(), "hello");
    } finally {
      writer.destroy();
      closeSync(r);
    }
  });

  it("review #2: a write larger than the pipe never blocks the loop; it ends once the reader has taken it all", async () => {
    const { r, writer } = pipeWriter();
    try {
      const data = Buffer.alloc(4 * PIPE, "a");
      const write = writer.write(data);
      let ticks = 0;
      const ticking = setInterval(() => ticks++, 1);
      await sleep(30);
      assert.ok(ticks > 3, "the event loop kept running");
      assert.equal(writer.queuedBytes, 3 * PIPE, "the kernel took a pipeful, the rest waits");
      const got: Buffer[] = [];
      let total = 0;
      while (total < data.length) {
        const chunk = drain(r);
        got.push(chunk);
        total += chunk.length;
        await sleep(1);
      }
      clearInterval(ticking);
      assert.equal(await write, data.length);
      assert.ok(Buffer.concat(got).equals(data));
    } finally {
      writer.destroy();
      closeSync(r);
    }
  });

  it("writes queued writes in order", async () => {
    const { r, writer } = pipeWriter();
    try {
      const first = writer.write(Buffer.alloc(PIPE + 10, "1"));
      const second = writer.write(Buffer.alloc(100, "2"));
      const got: Buffer[] = [];
      const done = Promise.all([first, second]);
      while ((await Promise.race([done, sleep(1)])) === undefined) got.push(drain(r));
      got.push(drain(r));
      assert.equal(Buffer.concat(got).toString(), "1".repeat(PIPE + 10) + "2".repeat(100));
    } finally {
      writer.destroy();
      closeSync(r);
    }
  });

  it("review #7: admits a write when nothing is queued or the queue stays within the limit, else RESOURCE_EXHAUSTED", async () => {
    const { r, writer } = pipeWriter(1000);
    try {
      const big = writer.write(Buffer.alloc(PIPE + 5000));
      assert.equal(writer.queuedBytes, 5000, "admitted: nothing was queued before it");
      await assert.rejects(writer.write(Buffer.alloc(1)), (e: unknown) => {
        assert.ok(isCode(Code.RESOURCE_EXHAUSTED)(e));
        assert.match((e as Error).message, /not reading its stdin/);
        return true;
      });
      assert.equal(writer.queuedBytes, 5000, "the refused write left nothing");
      drain(r);
      await sleep(10);
      drain(r);
      await big;
      const large = writer.write(Buffer.alloc(PIPE + 500));
      const small = writer.write(Buffer.alloc(400));
      assert.equal(writer.queuedBytes, 900, "within the limit");
      await assert.rejects(writer.write(Buffer.alloc(101)), isCode(Code.RESOURCE_EXHAUSTED));
      while (writer.queuedBytes > 0) {
        drain(r);
        await sleep(1);
      }
      await Promise.all([large, small]);
    } finally {
      writer.destroy();
      closeSync(r);
    }
  });

  it("review #7: an aborted write drops what it had not written, and writes nothing later", async () => {
    const { r, writer } = pipeWriter();
    try {
      const stop = new AbortController();
      const write = writer.write(Buffer.alloc(3 * PIPE, "a"), stop.signal);
      const after = writer.write(Buffer.from("b"));
      stop.abort(new AgentError(Code.DEADLINE_EXCEEDED, "deadline"));
      await assert.rejects(write, isCode(Code.DEADLINE_EXCEEDED));
      assert.equal(writer.queuedBytes, 1, "only the write behind it is left");
      const got: Buffer[] = [drain(r)];
      await after;
      await sleep(20);
      got.push(drain(r));
      assert.equal(
        Buffer.concat(got).toString(),
        `${"a".repeat(PIPE)}b`,
        "a pipeful went out before the abort",
      );
      await assert.rejects(
        writer.write(Buffer.from("x"), AbortSignal.abort(new AgentError(Code.CANCELLED, "gone"))),
        isCode(Code.CANCELLED),
      );
      assert.equal(drain(r).length, 0, "an already aborted write writes nothing");
    } finally {
      writer.destroy();
      closeSync(r);
    }
  });

  it("closes once the queued writes are written, and refuses writes from then on", async () => {
    const { r, writer } = pipeWriter();
    try {
      const write = writer.write(Buffer.alloc(PIPE + 100, "a"));
      const closed = writer.close();
      await assert.rejects(writer.write(Buffer.from("late")), isCode(Code.FAILED_PRECONDITION));
      let total = 0;
      let eof = false;
      while (!eof) {
        const buf = Buffer.alloc(PIPE);
        try {
          const n = readSync(r, buf);
          total += n;
          eof = n === 0;
        } catch {
          await sleep(1);
        }
      }
      await Promise.all([write, closed]);
      assert.equal(total, PIPE + 100, "every queued byte, then EOF");
    } finally {
      writer.destroy();
      closeSync(r);
    }
  });

  it("fails writes with UNAVAILABLE once the reader has gone (EPIPE), and refuses later ones", async () => {
    const { r, writer } = pipeWriter();
    closeSync(r);
    await assert.rejects(writer.write(Buffer.from("x")), (e: unknown) => {
      assert.ok(isCode(Code.UNAVAILABLE)(e));
      assert.match((e as Error).message, /EPIPE/);
      return true;
    });
    await assert.rejects(writer.write(Buffer.from("x")), isCode(Code.FAILED_PRECONDITION));
  });

  it("destroy() fails queued writes and closes the fd", async () => {
    const { r, writer } = pipeWriter();
    try {
      const write = writer.write(Buffer.alloc(PIPE + 1));
      writer.destroy();
      await assert.rejects(write, isCode(Code.FAILED_PRECONDITION));
      assert.equal(writer.queuedBytes, 0);
      drain(r);
      await sleep(10);
      assert.equal(readSync(r, Buffer.alloc(1)), 0, "EOF: the write end is closed");
    } finally {
      closeSync(r);
    }
  });
});
