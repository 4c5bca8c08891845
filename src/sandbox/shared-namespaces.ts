import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { AgentError, Code } from "../errors.js";
import type { CleanupStack } from "../sys/cleanup-stack.js";
import { runCommand } from "../sys/exec.js";
import { bindMount, UnmountFlag, unmount } from "../sys/mount.js";
import { pauseBinary } from "../sys/native.js";
import { type ProcessIdentity, readProcess } from "../sys/process-identity.js";
import type { Reaper } from "../sys/reaper.js";

export interface SharedNamespaces {
  /** Namespace files every container joins. */
  readonly ipc: string;
  readonly uts: string;
}

/**
 * A PID namespace the sandbox's containers share, bind-mounted onto a file: a pid that is reused can
 * never stand in for it, as a /proc/<pid>/ns/pid path could.
 */
export interface SharedPidNamespace {
  /** The file it is mounted on, which containers join. */
  readonly path: string;
  /** Whose namespace it is, for messages: "berth-pause (pid 12)", "container c1". */
  readonly owner: string;
  /** Settles when the namespace's init has exited: nothing can start in the namespace after that. */
  readonly ended: Promise<unknown>;
}

const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,63})?$/;

/**
 * Creates the sandbox's UTS namespace (with `hostname` set in it) and IPC namespace, and keeps both alive
 * by bind-mounting them onto files in `dir` (Kata: /var/run/sandbox-ns/{uts,ipc}). util-linux unshare
 * does the bind mounts; the hostname is set by a command run inside the new UTS namespace, so the guest's
 * own hostname is never touched.
 */
export async function createSharedNamespaces(
  dir: string,
  hostname: string,
  undo: CleanupStack,
): Promise<SharedNamespaces> {
  if (hostname && !HOSTNAME.test(hostname)) {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      `hostname ${JSON.stringify(hostname)} is not a valid host name`,
    );
  }
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const ns = { uts: `${dir}/uts`, ipc: `${dir}/ipc` };
  for (const file of [ns.uts, ns.ipc]) await createNamespaceFile(file, undo);
  // unshare bind-mounts both namespace files before it runs the command; undo them even if it fails later.
  undo.push(`unmount ${ns.ipc}`, () => unmountIfMounted(ns.ipc));
  undo.push(`unmount ${ns.uts}`, () => unmountIfMounted(ns.uts));
  await runCommand(
    ["unshare", `--uts=${ns.uts}`, `--ipc=${ns.ipc}`, ...(hostname ? ["hostname", hostname] : ["true"])],
    {
      timeoutMs: 10_000,
    },
  );
  return ns;
}

async function createNamespaceFile(file: string, undo: CleanupStack): Promise<void> {
  await writeFile(file, "", { flag: "wx" }).catch((error: NodeJS.ErrnoException) => {
    throw new AgentError(
      error.code === "EEXIST" ? Code.ALREADY_EXISTS : Code.INTERNAL,
      `cannot create namespace file ${file}: ${error.message} (is another agent's sandbox still there?)`,
      { cause: error },
    );
  });
  undo.push(`remove ${file}`, () => rm(file, { force: true }));
}

/**
 * Keeps the PID namespace of process `pid` on `file` (Kata's sandbox-ns dir: `<dir>/pid`), bind-mounted
 * like uts and ipc. The caller makes sure `pid` is still the process it means (not reaped yet).
 */
export async function pinPidNamespace(pid: number, file: string, undo: CleanupStack): Promise<void> {
  await createNamespaceFile(file, undo);
  undo.push(`unmount ${file}`, () => unmountIfMounted(file));
  await bindMount(`/proc/${pid}/ns/pid`, file);
}

async function unmountIfMounted(file: string) {
  await unmount(file, UnmountFlag.DETACH).catch((error: unknown) => {
    if (AgentError.from(error).code !== Code.INVALID_ARGUMENT) throw error;
  });
}

/**
 * Starts berth-pause, the init of a new PID namespace that every container of the sandbox joins, and
 * pins that namespace on `<dir>/pid`. The pause init is reparented to berth (a subreaper), so its pid
 * is not reused before the reaper has seen it exit; the undo ends it and waits for that. Its pid and start
 * time are kept in `record` while it lives, so that an agent started after this one died can end it (see
 * reclaim.ts).
 */
export async function createSandboxPidNamespace(
  reaper: Pick<Reaper, "wait">,
  dir: string,
  undo: CleanupStack,
  record: string,
): Promise<SharedPidNamespace> {
  const { stdout } = await runCommand([pauseBinary()], { timeoutMs: 10_000 });
  const pid = Number.parseInt(stdout.trim(), 10);
  if (!Number.isSafeInteger(pid) || pid <= 1) {
    throw new AgentError(Code.INTERNAL, `berth-pause printed ${JSON.stringify(stdout)}, not a pid`);
  }
  const exited = reaper.wait(pid);
  undo.push(`stop the sandbox PID namespace (berth-pause ${pid})`, async () => {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // already gone: the reaper has its exit
    }
    await exited;
    await rm(record, { force: true });
  });
  const running = await readProcess(pid);
  if (running) await writeRecord(record, { pid, startTime: running.startTime });
  const path = `${dir}/pid`;
  await pinPidNamespace(pid, path, undo);
  return { path, owner: `berth-pause (pid ${pid})`, ended: exited };
}

async function writeRecord(file: string, identity: ProcessIdentity): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, JSON.stringify(identity), { mode: 0o600 });
}
