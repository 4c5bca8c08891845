import { readFile } from "node:fs/promises";

/** The bit of `signal` in a /proc/<pid>/status signal mask (hex). */
export function maskHas(maskHex: string, signal: number): boolean {
  if (!/^[0-9a-fA-F]{1,32}$/.test(maskHex) || signal < 1 || signal > 64) return false;
  return ((BigInt(`0x${maskHex}`) >> BigInt(signal - 1)) & 1n) === 1n;
}

/** Whether process `pid` catches, blocks or ignores `signal` (SigCgt, SigBlk, SigIgn of /proc/<pid>/status). */
export async function handlesSignal(pid: number, signal: number): Promise<boolean> {
  let status: string;
  try {
    status = await readFile(`/proc/${pid}/status`, "utf8");
  } catch {
    return false;
  }
  return ["SigCgt", "SigBlk", "SigIgn"].some((field) => {
    const mask = new RegExp(`^${field}:\\s*([0-9a-fA-F]+)$`, "m").exec(status)?.[1];
    return mask !== undefined && maskHas(mask, signal);
  });
}

/**
 * Waits (up to `timeoutMs`) while `pid` is still runc's own init, before the container's program has
 * replaced it. `runc exec --detach` returns a moment before the exec, and until then signals reach runc's
 * handlers. A start (the read of runc's exec FIFO to its end) returns within the exec: the FIFO closes
 * past the exec's point of no return, so a signal is delivered to the program, but for a while yet
 * /proc shows runc's name and signal masks (seen on most starts here).
 */
export async function waitWhileRuncInit(pid: number, timeoutMs = 1000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let comm: string;
    try {
      comm = await readFile(`/proc/${pid}/comm`, "utf8");
    } catch {
      return;
    }
    if (!comm.startsWith("runc:")) return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
