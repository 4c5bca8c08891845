import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import {
  closeSync,
  constants,
  fstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  rmSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { native } from "./native.js";
import { randomHex } from "./random.js";

const O_CLOEXEC = 0o2000000;
const { POLL_READABLE: READABLE, POLL_WRITABLE: WRITABLE } = native().constants;

/** Adds `n` to an eventfd's counter. */
function signalEventfd(fd: number, n: bigint) {
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64LE(n);
  writeSync(fd, buf);
}

/** The status flags (O_NONBLOCK, O_CLOEXEC, …) of one of this process's fds, from /proc. */
function fdFlags(fd: number): number {
  const flags = /flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"))?.[1];
  return Number.parseInt(flags ?? "", 8);
}

/** Sends `fds` (or `count` fds of /dev/null) with one byte over connected socket `socketFd`, from python. */
function sendFds(socketFd: number, fds: number[], count = 0) {
  const script = `import os, socket, sys
s = socket.socket(fileno=3)
fds = [int(a) for a in sys.argv[1:]] or [os.open("/dev/null", os.O_RDONLY) for _ in range(${count})]
socket.send_fds(s, [b"x"], fds)`;
  const stdio = ["ignore", "inherit", "inherit", socketFd, ...fds] as const;
  return spawn("python3", ["-c", script, ...fds.map((_, i) => String(4 + i))], { stdio: [...stdio] });
}

/** `f`'s first non-null answer, asked every few milliseconds for at most 5 s. */
async function until<T>(f: () => T | null): Promise<T> {
  for (let i = 0; i < 1000; i++) {
    const value = f();
    if (value !== null) return value;
    await sleep(5);
  }
  throw new Error("still nothing after 5 s");
}

/** Runs `body` (an ES module using `native`) in a fresh node, started by `wrapper` if given; returns how it ended. */
function runWithNative(body: string, wrapper: string[] = []) {
  const url = new URL("./native.js", import.meta.url).href;
  const node = [
    process.execPath,
    "--input-type=module",
    "-e",
    `import { native } from ${JSON.stringify(url)};\n${body}`,
  ];
  const [command = "", ...args] = [...wrapper, ...node];
  return spawnSync(command, args, { encoding: "utf8", timeout: 10_000 });
}

/** Script text that ends the child (status 3) before any call if it still holds capability `bit`. */
function lacksCapability(bit: number, name: string): string {
  return `const { readFileSync } = await import("node:fs");
      const eff = BigInt("0x" + /CapEff:\\s*([0-9a-f]+)/.exec(readFileSync("/proc/self/status", "utf8"))[1]);
      if (eff & (1n << ${bit}n)) {
        console.log("still has ${name}; not calling");
        process.exit(3);
      }`;
}

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

  it("acceptConnection() and receiveFd() never wait: null until a connection, then its fd, arrive", async () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-recv-"));
    const path = join(dir, "console.sock");
    const listenFd = native().unixListen(Buffer.from(path), 1);
    let conn: number | null = null;
    let received: number | null = null;
    const [sendEnd, keep] = native().pipe();
    try {
      assert.equal(native().acceptConnection(listenFd), null, "nobody has connected");
      const peer = await native().unixConnect(Buffer.from(path));
      conn = native().acceptConnection(listenFd);
      assert.ok(conn !== null && conn >= 0);
      assert.ok(fdFlags(conn) & constants.O_NONBLOCK, "the connection is non-blocking");
      assert.equal(native().receiveFd(conn), null, "nothing sent yet");
      const senderExited = once(sendFds(peer, [sendEnd]), "exit");
      received = await until(() => native().receiveFd(conn ?? -1));
      await senderExited;
      closeSync(peer);
      assert.ok(fdFlags(received) & constants.O_NONBLOCK, "the received fd is non-blocking");
      assert.ok(fdFlags(received) & O_CLOEXEC, "and close-on-exec");
      assert.equal(fstatSync(received).ino, fstatSync(sendEnd).ino, "the same pipe");
      assert.throws(() => native().receiveFd(conn ?? -1), { code: "EBADMSG" }, "end of stream");
    } finally {
      for (const fd of [listenFd, conn, received, sendEnd, keep]) if (fd !== null) closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("receiveFd() refuses a message with more than one fd, or none, and closes every fd it received", async () => {
    const openFds = () => readdirSync("/proc/self/fd").length;
    const dir = mkdtempSync(join(tmpdir(), "berth-recv-"));
    const path = join(dir, "console.sock");
    const listenFd = native().unixListen(Buffer.from(path), 1);
    try {
      // 2 fds fit the control buffer (the addon must close them); 3 do not (MSG_CTRUNC: the kernel drops the rest).
      for (const count of [0, 2, 3]) {
        const before = openFds();
        const peer = await native().unixConnect(Buffer.from(path));
        const conn = native().acceptConnection(listenFd) ?? -1;
        const sender = sendFds(peer, [], count);
        await once(sender, "exit");
        closeSync(peer);
        assert.throws(() => native().receiveFd(conn), { code: "EBADMSG" }, `${count} fds`);
        closeSync(conn);
        assert.equal(openFds(), before, `no fd of the ${count} left open`);
      }
    } finally {
      closeSync(listenFd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("setNonBlocking() sets O_NONBLOCK on the description: a dup shares it, the pipe's other end does not", () => {
    const [r, w] = native().pipe();
    const copy = native().dup(w);
    try {
      assert.equal(fdFlags(w) & constants.O_NONBLOCK, 0);
      native().setNonBlocking(w);
      assert.ok(fdFlags(w) & constants.O_NONBLOCK);
      assert.ok(fdFlags(copy) & constants.O_NONBLOCK);
      assert.equal(fdFlags(r) & constants.O_NONBLOCK, 0, "the read end is its own description");
      assert.throws(() => native().setNonBlocking(-1), { code: "EBADF", syscall: "fcntl" });
    } finally {
      for (const fd of [r, w, copy]) closeSync(fd);
    }
  });

  it("interfaceUp() takes a name of up to 15 bytes (IFNAMSIZ with its NUL) and refuses a longer one", () => {
    assert.throws(() => native().interfaceUp("berth-no-such-0"), { code: "ENODEV", syscall: "ioctl" });
    assert.throws(
      () => native().interfaceUp("berth-no-such-16"),
      /interfaceUp\(name: string of at most 15 bytes\)/,
    );
  });

  it("refuses a NUL inside a string argument with a TypeError, before any syscall", async () => {
    // Were the NUL let through, the kernel would see only the part before it: each call below would then
    // fail on a path that does not exist (or an interface that does not), never act.
    const none = "/nonexistent-berth";
    const calls: [string, () => unknown][] = [
      ["mount source", () => native().mount(`${none}\0x`, none, "tmpfs", 0, null)],
      ["mount target", () => native().mount(null, `${none}\0/x`, "tmpfs", 0, null)],
      ["mount fstype", () => native().mount(null, none, "tmpfs\0x", 0, null)],
      ["mount data", () => native().mount(null, none, "tmpfs", 0, "size=1m\0x")],
      ["umount target", () => native().umount(`${none}\0/x`, 0)],
      ["interfaceUp name", () => native().interfaceUp("berth-none\0lo")],
    ];
    for (const [what, call] of calls) assert.throws(call, TypeError, what);
    const dir = mkdtempSync(join(tmpdir(), "berth-nul-"));
    try {
      const cut = Buffer.from(join(dir, "a\0b"));
      assert.throws(() => native().unixListen(cut, 1), TypeError, "unixListen path");
      assert.throws(() => native().unixConnect(cut), TypeError, "unixConnect path");
      assert.deepEqual(readdirSync(dir), [], "no socket bound at the part before the NUL");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("setHostname() refuses a NUL inside the name and a name over 64 bytes (in its own UTS namespace)", () => {
    const child = runWithNative(
      `const { hostname } = await import("node:os");
      const before = hostname();
      for (const name of ["berth\\0x", "h".repeat(65)]) {
        try { native().setHostname(name); console.log("set"); } catch (error) { console.log(error.name); }
      }
      console.log(hostname() === before ? "unchanged" : "changed");`,
      ["unshare", "--uts"],
    );
    assert.deepEqual(child.stdout.split("\n"), ["TypeError", "TypeError", "unchanged", ""], child.stderr);
  });

  it("shutdown() refuses a NUL inside the action (in a process without CAP_SYS_BOOT)", () => {
    const child = runWithNative(
      `${lacksCapability(22, "CAP_SYS_BOOT")}
      try { native().shutdown("reboot\\0x"); } catch (error) { console.log(error.name, error.code); }`,
      ["setpriv", "--inh-caps=-sys_boot", "--bounding-set=-sys_boot"],
    );
    assert.equal(child.status, 0, child.stdout + child.stderr);
    assert.equal(child.stdout, "TypeError ERR_INVALID_ARG_TYPE\n");
  });

  it("refuses a number it would truncate, wrap or misread with a TypeError, before any syscall", () => {
    // Every call targets a path that does not exist: were a number let through, the call would fail, not act.
    const none = "/nonexistent-berth";
    const c = native().constants;
    const calls: [string, () => unknown][] = [
      ["negative mount flags", () => native().mount(null, none, "tmpfs", -1, null)],
      ["NaN mount flags", () => native().mount(null, none, "tmpfs", Number.NaN, null)],
      ["fractional mount flags", () => native().mount(null, none, "tmpfs", 1.5, null)],
      ["mount flags beyond 2^53", () => native().mount(null, none, "tmpfs", 2 ** 64, null)],
      ["fractional umount flags", () => native().umount(none, 1.5)],
      ["umount flags beyond an int", () => native().umount(none, 2 ** 32 + 2)],
      ["unlinkat flags beyond an int", () => native().unlinkat(c.AT_FDCWD, none, 2 ** 32)],
      ["fchownat flags beyond an int", () => native().fchownat(c.AT_FDCWD, none, 0, 0, 2 ** 32)],
      ["a uid beyond 32 bits", () => native().fchownat(c.AT_FDCWD, none, 2 ** 32, 0, 0)],
      ["a negative gid", () => native().fchownat(c.AT_FDCWD, none, 0, -2, 0)],
      ["a mode beyond 32 bits", () => native().mkdirat(c.AT_FDCWD, `${none}/x`, 2 ** 32 + 0o700)],
      ["a vsock cid beyond 32 bits", () => native().vsockConnect(2 ** 32 + 1, 1024)],
      ["a vsock port beyond 32 bits", () => native().vsockConnect(1, 2 ** 32 + 1024)],
      ["a fractional vsock port", () => native().vsockConnect(1, 1024.5)],
      ["a vsock port below -1", () => native().vsockListen(-1, -2, 1)],
      ["a listening vsock cid beyond 32 bits", () => native().vsockListen(2 ** 32 + 1, 1024, 1)],
    ];
    for (const [what, call] of calls) assert.throws(call, TypeError, what);
  });

  it("unixListen() and unixConnect() take an abstract name filling all 108 bytes of sun_path", async () => {
    const name = Buffer.alloc(108, "b");
    name[0] = 0;
    name.write(`berth-${process.pid}-${Date.now()}-`, 1);
    const listenFd = native().unixListen(name, 1);
    try {
      const fd = await native().unixConnect(name);
      closeSync(fd);
      assert.throws(() => native().unixConnect(Buffer.concat([name, Buffer.from("x")])), {
        code: "ENAMETOOLONG",
      });
      const path = Buffer.alloc(108, "p");
      assert.throws(() => native().unixListen(path, 1), { code: "ENAMETOOLONG" }, "a path needs its NUL");
    } finally {
      closeSync(listenFd);
    }
  });

  it("mountsChanged() reports a change of the mount table once, nothing for a file that is not mountinfo, and EBADF for no fd", () => {
    const child = runWithNative(
      `const { closeSync, mkdtempSync, openSync, rmdirSync } = await import("node:fs");
      const { execFileSync } = await import("node:child_process");
      const fd = openSync("/proc/self/mountinfo", "r");
      const dir = mkdtempSync("/tmp/berth-mounts-changed-");
      const seen = [native().mountsChanged(fd)];
      execFileSync("mount", ["-t", "tmpfs", "none", dir]);
      seen.push(native().mountsChanged(fd), native().mountsChanged(fd));
      execFileSync("umount", [dir]);
      rmdirSync(dir);
      seen.push(native().mountsChanged(fd));
      const file = openSync("/proc/self/status", "r");
      seen.push(native().mountsChanged(file));
      closeSync(file);
      try { native().mountsChanged(file); } catch (error) { seen.push(error.code); }
      console.log(JSON.stringify(seen));`,
      ["unshare", "--mount", "--propagation", "private"],
    );
    assert.equal(
      child.stdout.trim(),
      JSON.stringify([false, true, false, true, false, "EBADF"]),
      child.stderr,
    );
  });

  it("spawnProcess() runs a program with the given stdio, env and cwd; reapProcess() takes its status once", async () => {
    const [r, w] = native().pipe();
    try {
      const [pid, pidfd] = native().spawnProcess(
        "/bin/sh",
        ["sh", "-c", 'printf "%s %s" "$BERTH_X" "$PWD"; exit 7'],
        ["BERTH_X=set", "PATH=/bin"],
        Int32Array.of(w, w, w),
        "/tmp",
        true,
      );
      closeSync(w);
      assert.ok(readlinkSync(`/proc/self/fd/${pidfd}`).includes("pidfd"));
      for (let i = 0; i < 500 && native().reapProcess(pid) === null; i++) await sleep(2);
      closeSync(pidfd);
      assert.equal(readFileSync(r, "utf8"), "set /tmp");
      assert.throws(() => native().reapProcess(pid), { code: "ECHILD" });
    } finally {
      closeSync(r);
    }
  });

  it("spawnProcess() reports a program it cannot run as the errno, and refuses bad arguments", () => {
    const stdio = Int32Array.of(0, 1, 2);
    assert.throws(() => native().spawnProcess("/nonexistent/berth", ["x"], [], stdio, null, false), {
      code: "ENOENT",
      syscall: "posix_spawn",
    });
    for (const call of [
      () => native().spawnProcess("/bin/true", [], [], stdio, null, false),
      () => native().spawnProcess("/bin/true", ["true\0x"], [], stdio, null, false),
      () => native().spawnProcess("/bin/true", ["true"], [], Int32Array.of(0, 1), null, false),
      () => native().spawnProcess("/bin/true", ["true"], [], Int32Array.of(0, 1, -1), null, false),
      () => native().reapProcess(0),
    ]) {
      assert.throws(call, TypeError);
    }
  });

  it("eventfd() makes a non-blocking, close-on-exec eventfd", () => {
    const fd = native().eventfd();
    try {
      assert.equal(readlinkSync(`/proc/self/fd/${fd}`), "anon_inode:[eventfd]");
      const flags = Number.parseInt(
        /flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"))?.[1] ?? "",
        8,
      );
      assert.ok(flags & constants.O_NONBLOCK, "O_NONBLOCK");
      assert.ok(flags & O_CLOEXEC, "O_CLOEXEC");
      assert.throws(() => readSync(fd, Buffer.alloc(8)), { code: "EAGAIN" });
    } finally {
      closeSync(fd);
    }
  });

  it("pollFd() calls back on Node's loop each time the fd is readable, until stopped", async () => {
    const fd = native().eventfd();
    const counts: bigint[] = [];
    const buf = Buffer.alloc(8);
    const poll = native().pollFd(fd, READABLE, (error) => {
      assert.equal(error, undefined);
      readSync(fd, buf);
      counts.push(buf.readBigUInt64LE());
    });
    const until = async (n: number) => {
      for (let i = 0; counts.length < n && i < 500; i++) await sleep(2);
    };
    try {
      signalEventfd(fd, 3n);
      await until(1);
      assert.deepEqual(counts, [3n]);
      signalEventfd(fd, 1n);
      signalEventfd(fd, 1n);
      await until(2);
      assert.deepEqual(counts, [3n, 2n], "signals before a read add up");
      poll.setEvents(0);
      signalEventfd(fd, 1n);
      await sleep(50);
      assert.deepEqual(counts, [3n, 2n], "no callback while paused");
      poll.setEvents(READABLE);
      await until(3);
      assert.deepEqual(counts, [3n, 2n, 1n], "resumed");
      poll.stop();
      poll.stop();
      poll.setEvents(READABLE);
      signalEventfd(fd, 1n);
      await sleep(50);
      assert.deepEqual(counts, [3n, 2n, 1n], "no callback after stop(), even when asked for events");
    } finally {
      poll.stop();
      closeSync(fd);
    }
  });

  it("pollFd() calls back while the fd is writable: a full pipe, once, and again once the reader makes room", async () => {
    const [r, w] = native().pipe();
    native().setNonBlocking(w);
    let calls = 0;
    const poll = native().pollFd(w, WRITABLE, () => {
      calls++;
      poll.setEvents(0);
    });
    try {
      for (let i = 0; calls < 1 && i < 500; i++) await sleep(2);
      assert.equal(calls, 1, "an empty pipe is writable");
      const chunk = Buffer.alloc(1 << 16);
      assert.throws(
        () => {
          for (;;) writeSync(w, chunk);
        },
        { code: "EAGAIN" },
      );
      poll.setEvents(WRITABLE);
      await sleep(50);
      assert.equal(calls, 1, "not while the pipe is full");
      readSync(r, Buffer.alloc(1 << 16));
      for (let i = 0; calls < 2 && i < 500; i++) await sleep(2);
      assert.equal(calls, 2, "writable again once read");
    } finally {
      poll.stop();
      closeSync(r);
      closeSync(w);
    }
  });

  it("pollFd() does not keep the process alive, and a throwing callback is an uncaught exception", () => {
    const idle = runWithNative(
      "native().pollFd(native().eventfd(), native().constants.POLL_READABLE, () => {});",
    );
    assert.equal(idle.status, 0, idle.stderr);
    const throwing = runWithNative(`
      const fd = native().eventfd();
      native().pollFd(fd, native().constants.POLL_READABLE, () => { throw new Error("thrown in onReady"); });
      const one = Buffer.alloc(8);
      one.writeBigUInt64LE(1n);
      (await import("node:fs")).writeSync(fd, one);
      setTimeout(() => {}, 5000);
    `);
    assert.equal(throwing.status, 1);
    assert.match(throwing.stderr, /thrown in onReady/);
  });

  it("pollFd() watches its own copy of the fd: closing the fd first neither aborts nor hits its next owner", async () => {
    const closedAtOnce = runWithNative(`
      const { closeSync } = await import("node:fs");
      const fd = native().eventfd();
      const poll = native().pollFd(fd, native().constants.POLL_READABLE, () => {});
      closeSync(fd);
      setTimeout(() => { poll.stop(); console.log("alive"); }, 50);`);
    assert.deepEqual([closedAtOnce.signal, closedAtOnce.stdout], [null, "alive\n"], closedAtOnce.stderr);

    const first = native().eventfd();
    const pollFirst = native().pollFd(first, READABLE, () => {});
    await sleep(10);
    closeSync(first);
    const second = native().eventfd();
    assert.equal(second, first, "the number is reused");
    let calls = 0;
    const buf = Buffer.alloc(8);
    const pollSecond = native().pollFd(second, READABLE, () => {
      readSync(second, buf);
      calls++;
    });
    const until = async (n: number) => {
      for (let i = 0; calls < n && i < 500; i++) await sleep(2);
    };
    try {
      signalEventfd(second, 1n);
      await until(1);
      pollFirst.stop();
      signalEventfd(second, 1n);
      await until(2);
      assert.equal(calls, 2, "stopping the first watch leaves the fd's new owner polled");
    } finally {
      pollFirst.stop();
      pollSecond.stop();
      closeSync(second);
    }
  });

  it("pollFd() left running when a worker thread ends is closed with it, not after the addon is gone", () => {
    const url = new URL("./native.js", import.meta.url).href;
    // Evaluated as a module: a worker inherits --input-type=module.
    const worker = `
      const { native } = await import(${JSON.stringify(url)});
      native().pollFd(native().eventfd(), native().constants.POLL_READABLE, () => {});
      (await import("node:worker_threads")).parentPort.postMessage("polling");`;
    const ended = runWithNative(`
      const { Worker } = await import("node:worker_threads");
      for (let i = 0; i < 3; i++) {
        const w = new Worker(${JSON.stringify(worker)}, { eval: true });
        // Both listeners first: the worker's message and its exit can come in one turn of the loop.
        const exited = new Promise((resolve) => w.once("exit", resolve));
        await new Promise((resolve) => w.once("message", resolve));
        await exited;
      }
      console.log("done");`);
    assert.equal(ended.signal, null, ended.stderr);
    assert.deepEqual([ended.status, ended.stdout], [0, "done\n"], ended.stderr);
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
    assert.throws(
      () => native().pollFd(0, READABLE, "not a function" as unknown as () => void),
      /pollFd\(fd: number, events: POLL_READABLE \| POLL_WRITABLE \| 0, onReady: \(error\?: Error\) => void\)/,
    );
    assert.throws(() => native().pollFd(0, 4, () => {}), TypeError, "an event libuv's poll does not take");
    const fd = native().eventfd();
    const poll = native().pollFd(fd, 0, () => {});
    try {
      assert.throws(() => poll.setEvents(8), /FdPoll.setEvents/);
      const { stop } = poll;
      assert.throws(() => stop(), /FdPoll.stop\(\)/, "a method detached from its poll");
    } finally {
      poll.stop();
      closeSync(fd);
    }
    const c = native().constants;
    const at: [string, () => unknown][] = [
      ["a NUL inside a path", () => native().openat2(c.AT_FDCWD, "/tmp\0/../etc", 0, 0, c.RESOLVE_BENEATH)],
      ["a NUL inside a name", () => native().mkdirat(c.AT_FDCWD, "x\0y", 0o700)],
      ["a NUL inside a symlink target", () => native().symlinkat("/\0", c.AT_FDCWD, "x")],
      ["a fractional mode", () => native().mkdirat(c.AT_FDCWD, "x", 0.5)],
      ["NaN flags", () => native().openat2(c.AT_FDCWD, "x", Number.NaN, 0, 0)],
      ["a uid beyond 2^53", () => native().fchownat(c.AT_FDCWD, "x", 2 ** 60, 0, 0)],
      ["a missing argument", () => (native().renameat as (fd: number, from: string) => unknown)(0, "x")],
      ["a string for a number", () => native().fchownat(c.AT_FDCWD, "x", "0" as unknown as number, 0, 0)],
    ];
    for (const [what, call] of at) assert.throws(call, TypeError, what);
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
    const child = runWithNative(
      `${lacksCapability(25, "CAP_SYS_TIME")}
      const now = Date.now();
      try {
        native().setTimeOfDay(Math.floor(now / 1000), (now % 1000) * 1000);
        console.log("set");
      } catch (error) {
        console.log(JSON.stringify({ code: error.code, syscall: error.syscall }));
      }`,
      ["setpriv", "--inh-caps=-sys_time", "--bounding-set=-sys_time"],
    );
    assert.equal(child.status, 0, child.stdout + child.stderr);
    assert.deepEqual(JSON.parse(child.stdout), { code: "EPERM", syscall: "settimeofday" });
  });

  it("addEntropy() credits bytes to the pool and reseeds the CRNG, as root", () => {
    native().addEntropy(Buffer.from(randomHex(64), "hex"));
  });

  it("addEntropy() refuses anything but a non-empty Uint8Array before opening /dev/random", () => {
    for (const bad of [new Uint8Array(0), "seed", new Uint16Array(4), undefined]) {
      assert.throws(() => native().addEntropy(bad as Uint8Array), /addEntropy\(data: non-empty Uint8Array\)/);
    }
  });

  it("addEntropy() reports EPERM in a process without CAP_SYS_ADMIN", () => {
    const child = runWithNative(
      `${lacksCapability(21, "CAP_SYS_ADMIN")}
      try {
        native().addEntropy(new Uint8Array(16));
        console.log("added");
      } catch (error) {
        console.log(JSON.stringify({ code: error.code, syscall: error.syscall }));
      }`,
      ["setpriv", "--inh-caps=-sys_admin", "--bounding-set=-sys_admin"],
    );
    assert.equal(child.status, 0, child.stdout + child.stderr);
    assert.deepEqual(JSON.parse(child.stdout), { code: "EPERM", syscall: "ioctl(RNDADDENTROPY)" });
  });

  it("exports the kernel's flag values and libuv's poll events", () => {
    const c = native().constants;
    assert.equal(c.AT_FDCWD, -100);
    assert.equal(c.RESOLVE_BENEATH, 0x08);
    assert.ok(c.O_PATH > 0 && c.RESOLVE_NO_SYMLINKS > 0 && c.RESOLVE_NO_MAGICLINKS > 0);
    assert.deepEqual([c.POLL_READABLE, c.POLL_WRITABLE], [1, 2]);
  });
});
