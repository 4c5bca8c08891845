import { constants } from "node:fs";
import { open, readdir, readFile, rmdir } from "node:fs/promises";
import { AgentError } from "../errors.js";
import { readProcess } from "../sys/process-identity.js";

const POLL_MS = 10;

/** Writes `text` to an existing cgroup file (never creating one); false when it cannot. */
async function writeExisting(file: string, text: string): Promise<boolean> {
  try {
    const handle = await open(file, constants.O_WRONLY);
    try {
      await handle.write(text);
    } finally {
      await handle.close();
    }
    return true;
  } catch {
    return false;
  }
}

/** The pids in cgroup `dir`; none when it is gone. */
export async function cgroupPids(dir: string): Promise<number[]> {
  const text = await readFile(`${dir}/cgroup.procs`, "utf8").catch(() => "");
  return text
    .split("\n")
    .map(Number)
    .filter((pid) => Number.isSafeInteger(pid) && pid > 0);
}

/**
 * SIGKILLs every process in cgroup `dir` (each pid of its cgroup.procs), then thaws it: a frozen process
 * takes no signal until it is thawed. A cgroup that holds the agent itself is left alone: it is never a
 * container's. A missing cgroup has nothing to kill.
 */
export async function killCgroupProcesses(dir: string): Promise<void> {
  const pids = await cgroupPids(dir);
  if (pids.includes(process.pid)) return;
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone already
    }
  }
  await writeExisting(`${dir}/freezer.state`, "THAWED");
  await writeExisting(`${dir}/cgroup.freeze`, "0");
}

/**
 * Removes cgroup `dir` if it is empty, killing nothing: what `runc delete` left. The kernel can answer
 * EBUSY for a while after the last process of a cgroup was seen to exit, longer than runc's 150 ms of
 * retries on a busy machine, so rmdir is retried for up to `timeoutMs` while the cgroup holds no live
 * process and no cgroup. Resolves true once it is gone, false when it is left because something is in it.
 */
export function removeEmptyCgroup(dir: string, timeoutMs = 2000): Promise<boolean> {
  return rmdirWhileBusy(
    dir,
    timeoutMs,
    async () => !(await holdsLiveProcess(dir)) && !(await hasChildCgroup(dir)),
  );
}

/**
 * rmdir of cgroup `dir`, again every POLL_MS while the kernel answers EBUSY, for up to `timeoutMs`: each
 * time after the pause `again` runs first, and its false gives up. True once the cgroup is gone (or was
 * not there), false when `again` gave up; any other error, and EBUSY past the deadline, is thrown.
 */
async function rmdirWhileBusy(
  dir: string,
  timeoutMs: number,
  again: () => Promise<boolean>,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await rmdir(dir);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return true;
      if (code !== "EBUSY" || Date.now() >= deadline) {
        throw AgentError.wrap(error, `cannot remove cgroup ${dir}`);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    if (!(await again())) return false;
  }
}

/** Whether a process listed in cgroup `dir` is alive: one exiting (a zombie, or gone) does not count. */
async function holdsLiveProcess(dir: string): Promise<boolean> {
  const alive = await Promise.all(
    (await cgroupPids(dir)).map(async (pid) => (await readProcess(pid)) !== undefined),
  );
  return alive.includes(true);
}

async function hasChildCgroup(dir: string): Promise<boolean> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.some((e) => e.isDirectory());
}

/**
 * Removes cgroup `dir` and every cgroup below it, deepest first: kills what runs in each, then retries
 * rmdir until the kernel lets it go (the processes have exited), for up to `timeoutMs` each. A cgroup
 * already gone is done.
 */
export async function removeCgroup(dir: string, timeoutMs = 2000): Promise<void> {
  let children: string[];
  try {
    children = (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => `${dir}/${e.name}`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw AgentError.wrap(error, `cannot list cgroup ${dir}`);
  }
  for (const child of children) await removeCgroup(child, timeoutMs);
  await killCgroupProcesses(dir);
  await rmdirWhileBusy(dir, timeoutMs, async () => {
    await killCgroupProcesses(dir);
    return true;
  });
}
