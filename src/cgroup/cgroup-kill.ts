import { constants } from "node:fs";
import { open, readdir, readFile, rmdir } from "node:fs/promises";
import { AgentError } from "../errors.js";

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
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await killCgroupProcesses(dir);
    try {
      await rmdir(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return;
      if (code !== "EBUSY" || Date.now() >= deadline) {
        throw AgentError.wrap(error, `cannot remove cgroup ${dir}`);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
