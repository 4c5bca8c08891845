import { readdir } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { AgentError, Code } from "../errors.js";
import { throwIfAborted, untilAborted } from "../sys/abort.js";
import { formatCpuList, onlineCpus, parseCpuList } from "../sys/cpus.js";
import { hasErrno } from "../sys/errno.js";
import { readKernelFile } from "../sys/read-kernel-file.js";
import { writeKernelFile } from "../sys/write-kernel-file.js";

/** Kata's bound: 100 rounds 50 ms apart. */
export const ONLINE_TIMEOUT_MS = 5000;
export const ONLINE_POLL_MS = 50;

export interface OnlineOptions {
  sysfs: string;
  /** How long the kernel may take to list what was onlined as online. */
  timeoutMs: number;
  /** How often sysfs is read again meanwhile. */
  pollMs: number;
  signal?: AbortSignal | undefined;
}

/** One CPU or memory block to bring online: its sysfs directory name (`cpu3`, `memory33`) and number. */
interface Unit {
  name: string;
  n: number;
}

/** The `<prefix>N` directories of `dir`, by number; none when the kernel has no such directory. */
async function unitsIn(dir: string, prefix: string): Promise<Unit[]> {
  const pattern = new RegExp(`^${prefix}(\\d{1,9})$`);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if (hasErrno(error, "ENOENT")) return [];
    throw AgentError.wrap(error, `cannot list ${dir}`);
  }
  return names
    .flatMap((name) => {
      const match = pattern.exec(name);
      return match ? [{ name, n: Number(match[1]) }] : [];
    })
    .sort((a, b) => a.n - b.n);
}

/** Whether `<dir>/online` reads "0": undefined when it has none (cpu0 on most kernels, a unit removed). */
async function isOffline(dir: string): Promise<boolean | undefined> {
  try {
    return (await readKernelFile(`${dir}/online`, 64)).trim() === "0";
  } catch (error) {
    if (hasErrno(error, "ENOENT")) return undefined;
    throw AgentError.wrap(error, `cannot read ${dir}/online`);
  }
}

/** Writes "1" to `<dir>/online`; a refusal is returned (tried again next round), not thrown. */
async function online(dir: string): Promise<string | undefined> {
  try {
    await writeKernelFile(`${dir}/online`, "1");
    return undefined;
  } catch (error) {
    return AgentError.from(error).message;
  }
}

/**
 * Writes "1" to the `online` file of each unit in `dir`. A refusal is kept in `refused` (for the error a
 * timeout gives) and tried again next round; a unit written is added to `written`. Whether any was new.
 */
async function onlineUnits(
  dir: string,
  units: readonly Unit[],
  refused: Map<string, string>,
  written: Map<string, number>,
): Promise<boolean> {
  let wrote = false;
  for (const unit of units) {
    const why = await online(`${dir}/${unit.name}`);
    if (why !== undefined) refused.set(unit.name, why);
    else {
      refused.delete(unit.name);
      if (!written.has(unit.name)) {
        written.set(unit.name, unit.n);
        wrote = true;
      }
    }
  }
  return wrote;
}

const describeRefusals = (refused: ReadonlyMap<string, string>) =>
  [...refused].map(([name, why]) => `${name}: ${why}`).join("; ");

/**
 * Brings CPUs online until the kernel lists at least `target` (`<sysfs>/devices/system/cpu/online`): "1" is
 * written to the `online` file of offline CPUs, lowest first, as many as are missing; then the list is
 * read again, every `pollMs`, until `timeoutMs` has passed (a hot-plugged vCPU's directory may appear a
 * moment after the host's call). Nothing is written when enough CPUs are online already. A target the
 * kernel can never reach (more than its `possible` CPUs) fails at once. Returns the CPUs written to.
 */
export async function bringCpusOnline(o: OnlineOptions, target: number): Promise<number[]> {
  const dir = `${o.sysfs}/devices/system/cpu`;
  const possible = await readKernelFile(`${dir}/possible`, 64 * 1024).catch(() => undefined);
  const limit = possible === undefined ? undefined : parseCpuList(possible).length;
  if (limit !== undefined && limit < target) {
    throw new AgentError(
      Code.FAILED_PRECONDITION,
      `cannot have ${target} CPUs online: the guest kernel can have ${limit} (possible: ${possible?.trim()})`,
    );
  }
  const deadline = performance.now() + o.timeoutMs;
  const written = new Map<string, number>();
  const refused = new Map<string, string>();
  for (;;) {
    throwIfAborted(o.signal);
    const onlineNow = new Set(parseCpuList(await onlineCpus(o.sysfs)));
    const missing = target - onlineNow.size;
    if (missing <= 0) return [...written.values()];
    // Not listed yet: offline, or onlined (its file reads 1) and on its way, which counts as coming.
    const offline: Unit[] = [];
    const coming: Unit[] = [];
    for (const cpu of await unitsIn(dir, "cpu")) {
      if (onlineNow.has(cpu.n)) continue;
      const state = await isOffline(`${dir}/${cpu.name}`);
      if (state === true) offline.push(cpu);
      else if (state === false) coming.push(cpu);
    }
    if (performance.now() >= deadline) {
      throw new AgentError(
        Code.DEADLINE_EXCEEDED,
        `${missing} of the ${target} CPUs asked for are not online after ${o.timeoutMs} ms (online: ${formatCpuList([...onlineNow]) || "none"})` +
          (coming.length > 0
            ? `; onlined but not listed online: ${coming.map((c) => c.name).join(", ")}`
            : "") +
          (refused.size > 0 ? `; refused: ${describeRefusals(refused)}` : "") +
          (offline.length === 0 && coming.length === 0
            ? "; no other offline CPU is present (was the vCPU hot-plugged?)"
            : ""),
      );
    }
    const wanted = offline.slice(0, Math.max(0, missing - coming.length));
    // A first write is checked at once (the kernel onlines as it is written); anything else waits a round.
    if (!(await onlineUnits(dir, wanted, refused, written))) await untilAborted(sleep(o.pollMs), o.signal);
  }
}

/**
 * Brings every memory block reading 0 in `<sysfs>/devices/system/memory/memoryN/online` online (the
 * guest's kernel leaves hot-added memory offline unless it onlines blocks itself), and reads them again,
 * every `pollMs`, until none reads 0 or `timeoutMs` has passed. Blocks the host adds after the scan are
 * for the next call. Returns the blocks written to.
 */
export async function bringMemoryOnline(o: OnlineOptions): Promise<string[]> {
  const dir = `${o.sysfs}/devices/system/memory`;
  const deadline = performance.now() + o.timeoutMs;
  const written = new Map<string, number>();
  const refused = new Map<string, string>();
  for (;;) {
    throwIfAborted(o.signal);
    const blocks = await unitsIn(dir, "memory");
    const states = await Promise.all(blocks.map((b) => isOffline(`${dir}/${b.name}`)));
    const offline = blocks.filter((_, i) => states[i] === true);
    if (offline.length === 0) return [...written.keys()];
    if (performance.now() >= deadline) {
      throw new AgentError(
        Code.DEADLINE_EXCEEDED,
        `${offline.length} memory block(s) still offline after ${o.timeoutMs} ms: ${offline.map((b) => b.name).join(", ")}` +
          (refused.size > 0 ? `; refused: ${describeRefusals(refused)}` : ""),
      );
    }
    if (!(await onlineUnits(dir, offline, refused, written))) await untilAborted(sleep(o.pollMs), o.signal);
  }
}

/** The memory block (`memory33`) a uevent announces as hot-added, or undefined for any other event. */
export function addedMemoryBlock(event: {
  action: string;
  subsystem: string;
  devpath: string;
}): string | undefined {
  if (event.action !== "add" || event.subsystem !== "memory") return undefined;
  return /^\/devices\/system\/memory\/(memory\d{1,9})$/.exec(event.devpath)?.[1];
}

/** Onlines memory block `name` unless it is online already; whether it wrote. */
export async function onlineMemoryBlock(sysfs: string, name: string): Promise<boolean> {
  const dir = `${sysfs}/devices/system/memory/${name}`;
  if ((await isOffline(dir)) !== true) return false;
  await writeKernelFile(`${dir}/online`, "1").catch((error: unknown) => {
    throw AgentError.wrap(error, `cannot online ${dir}`);
  });
  return true;
}
