/**
 * What an agent did in its own threads during some calls: strace(1) on every thread of the agent (not on
 * its children, so runc runs at full speed), one window per call. Per window: the main thread's syscalls
 * and the time it spent in them, the time it waited in epoll (for the thread pool, a child, the client),
 * each thread-pool operation in order (syscall and path), and each child started (its lifetime, from
 * posix_spawn's clone to its SIGCHLD). strace slows each syscall it sees, so the times are inflated; the
 * counts and the order are what to read.
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { sleep } from "../test/support/process-helpers.js";

interface Line {
  tid: number;
  at: number;
  call: string;
  text: string;
  took: number;
}

/** Seconds since midnight (UTC, as strace -tt prints them) of an epoch time in ms. */
const secondsOfDay = (epochMs: number) => (epochMs / 1000) % 86_400;

const now = () => secondsOfDay(performance.timeOrigin + performance.now());

function parse(text: string): Line[] {
  const lines: Line[] = [];
  for (const raw of text.split("\n")) {
    // strace pads the pid column: "9324  08:01:45.1" as much as "29324 08:01:45.1".
    const m = /^(\d+) +(\d+):(\d+):(\d+\.\d+) (.*)$/.exec(raw);
    if (!m) continue;
    const [, tid, h, min, s, rest = ""] = m;
    const at = Number(h) * 3600 + Number(min) * 60 + Number(s);
    const call = /^(?:<\.\.\. )?(\w+)/.exec(rest)?.[1] ?? "";
    const took = Number(/<(\d+\.\d+)>$/.exec(rest)?.[1] ?? 0) * 1000;
    lines.push({ tid: Number(tid), at, call, text: rest, took });
  }
  return lines;
}

const POOL_CALLS = new Set([
  "openat",
  "statx",
  "newfstatat",
  "read",
  "pread64",
  "write",
  "close",
  "unlink",
  "mkdir",
  "rmdir",
  "mount",
  "umount2",
  "access",
  "rename",
  "getdents64",
  "fsync",
]);

/** Traces the agent's threads while `calls` run; `calls` gets `mark(name)` to close each window. */
export async function traceCalls(
  agentPid: number,
  calls: (mark: (name: string) => void) => Promise<void>,
  outFile: string,
): Promise<string> {
  const tids = readdirSync(`/proc/${agentPid}/task`);
  const strace = spawn(
    "strace",
    ["-tt", "-T", "-s", "96", "-o", outFile, ...tids.flatMap((t) => ["-p", t])],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  const failed = new Promise<never>((_, reject) => {
    strace.once("error", (error) =>
      reject(new Error(`cannot run strace (apt-get install strace): ${error.message}`)),
    );
  });
  await Promise.race([sleep(1000), failed]);
  const windows: { name: string; from: number; to: number }[] = [];
  let from = now();
  await calls((name) => {
    const to = now();
    windows.push({ name, from, to });
    from = to;
  });
  await sleep(200);
  strace.kill("SIGINT");
  await new Promise((resolve) => strace.once("exit", resolve));

  const lines = parse(readFileSync(outFile, "utf8"));
  const out: string[] = [];
  for (const w of windows) {
    const inside = lines.filter((l) => l.at >= w.from && l.at <= w.to);
    const main = inside.filter((l) => l.tid === agentPid);
    const waited = main.filter((l) => l.call === "epoll_pwait" || l.call === "epoll_wait");
    const busy = main.filter(
      (l) => l.call !== "epoll_pwait" && l.call !== "epoll_wait" && l.call !== "futex",
    );
    const pool = inside.filter(
      (l) =>
        l.tid !== agentPid &&
        POOL_CALLS.has(l.call) &&
        !l.text.startsWith("<...") &&
        !/^(read|write)\(\d+, "\\1\\0/.test(l.text),
    );
    // The main thread between syscalls is running JavaScript (or taking page faults).
    let stretch = { ms: 0, at: 0 };
    for (let i = 1; i < main.length; i++) {
      const prev = main[i - 1] as Line;
      const cur = main[i] as Line;
      const gap = (cur.at - prev.at) * 1000 - prev.took;
      if (gap > stretch.ms) stretch = { ms: gap, at: (prev.at - w.from) * 1000 };
    }
    const children = main.filter((l) => /^clone3?\(/.test(l.text) && /= (\d+)/.test(l.text));
    const exits = main.filter((l) => l.text.startsWith("--- SIGCHLD"));
    out.push(
      `\n${w.name}: ${((w.to - w.from) * 1000).toFixed(1)} ms under strace; main thread ${busy.length} syscalls ` +
        `(${busy.reduce((a, l) => a + l.took, 0).toFixed(2)} ms in them), ${waited.reduce((a, l) => a + l.took, 0).toFixed(1)} ms waiting in epoll; ` +
        `${pool.length} thread-pool syscalls; ${children.length} children; longest run of JavaScript ` +
        `${stretch.ms.toFixed(1)} ms at +${stretch.at.toFixed(1)} ms`,
    );
    for (const c of children) {
      const pid = /= (\d+)/.exec(c.text)?.[1];
      const exit = exits.find((e) => e.text.includes(`si_pid=${pid},`));
      out.push(
        `  child ${pid}: started +${((c.at - w.from) * 1000).toFixed(1)} ms, spawn ${c.took.toFixed(2)} ms, ` +
          (exit ? `exited after ${((exit.at - c.at) * 1000).toFixed(1)} ms` : "still running"),
      );
    }
    for (const p of pool) {
      out.push(`  +${((p.at - w.from) * 1000).toFixed(1).padStart(6)} ms pool ${p.text.slice(0, 110)}`);
    }
  }
  return out.join("\n");
}
