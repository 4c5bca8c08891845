import assert from "node:assert/strict";
import { closeSync, fstatSync, mkdtempSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { native } from "./native.js";

describe("native addon", () => {
  it("pipe() makes a real pipe (a FIFO, not a socket)", () => {
    const [r, w] = native().pipe();
    try {
      assert.ok(fstatSync(r).isFIFO());
      writeSync(w, "x");
      const buf = Buffer.alloc(1);
      assert.equal(readSync(r, buf), 1);
      assert.equal(buf.toString(), "x");
    } finally {
      closeSync(r);
      closeSync(w);
    }
  });

  it("receiveFd() times out with ETIMEDOUT when nobody connects", async () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-recv-"));
    const fd = native().unixListen(Buffer.from(join(dir, "console.sock")), 1);
    try {
      await assert.rejects(native().receiveFd(fd, 50), { code: "ETIMEDOUT", syscall: "poll" });
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("rejects bad arguments with a TypeError naming the signature", () => {
    assert.throws(
      () => native().reapChildren([1] as unknown as Int32Array),
      /reapChildren\(excluded: Int32Array\)/,
    );
    assert.throws(
      () => native().umount(1 as unknown as string, 0),
      /umount\(target: string, flags: number\)/,
    );
  });
});
