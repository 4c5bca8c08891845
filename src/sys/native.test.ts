import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
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

  // These tests must never move this machine's clock. Each call below is one the kernel refuses before it
  // looks at privileges or the clock: an invalid timeval is EINVAL (timespec64_valid_settod), and a caller
  // without CAP_SYS_TIME is EPERM (cap_settime), which the child checks it lacks before it calls.
  it("setTimeOfDay() reports the kernel's EINVAL for a timeval it refuses", () => {
    const now = Math.floor(Date.now() / 1000);
    for (const [sec, usec] of [
      [now, -1],
      [now, 1_000_000],
      [now, 5_000_000],
      [-1, 0],
    ] as const) {
      assert.throws(() => native().setTimeOfDay(sec, usec), { code: "EINVAL", syscall: "settimeofday" });
    }
  });

  it("setTimeOfDay() refuses a number that is not an integer before any syscall", () => {
    // The other argument is one the kernel refuses, so even a broken check could not set the clock: a
    // TypeError (not EINVAL) shows the addon stopped the call itself.
    for (const bad of [Number.NaN, 1.5, Number.POSITIVE_INFINITY, 2 ** 60]) {
      assert.throws(() => native().setTimeOfDay(bad, -1), /setTimeOfDay\(sec: integer, usec: integer\)/);
      assert.throws(() => native().setTimeOfDay(-1, bad), TypeError);
    }
  });

  it("setTimeOfDay() reports EPERM in a process without CAP_SYS_TIME", () => {
    const script = `
      import { readFileSync } from "node:fs";
      const eff = BigInt("0x" + /CapEff:\\s*([0-9a-f]+)/.exec(readFileSync("/proc/self/status", "utf8"))[1]);
      if (eff & (1n << 25n)) {
        console.log("still has CAP_SYS_TIME; not calling");
        process.exit(3);
      }
      const { native } = await import(${JSON.stringify(new URL("./native.js", import.meta.url).href)});
      const now = Date.now();
      try {
        native().setTimeOfDay(Math.floor(now / 1000), (now % 1000) * 1000);
        console.log("set");
      } catch (error) {
        console.log(JSON.stringify({ code: error.code, syscall: error.syscall }));
      }`;
    const child = spawnSync(
      "setpriv",
      [
        "--inh-caps=-sys_time",
        "--bounding-set=-sys_time",
        process.execPath,
        "--input-type=module",
        "-e",
        script,
      ],
      { encoding: "utf8", timeout: 20_000 },
    );
    assert.equal(child.status, 0, child.stdout + child.stderr);
    assert.deepEqual(JSON.parse(child.stdout), { code: "EPERM", syscall: "settimeofday" });
  });

  it("exports the kernel's flag values", () => {
    const c = native().constants;
    assert.equal(c.AT_FDCWD, -100);
    assert.equal(c.RESOLVE_BENEATH, 0x08);
    assert.ok(c.O_PATH > 0 && c.RESOLVE_NO_SYMLINKS > 0 && c.RESOLVE_NO_MAGICLINKS > 0);
  });
});
