import { readFile } from "node:fs/promises";
import { AgentError } from "../errors.js";
import { runCommand } from "../sys/exec.js";
import { parseProcSwaps } from "./active-swaps.js";

const SWAP_COMMAND_TIMEOUT_MS = 30_000;

/** A swap area an AddSwap call asked for; `enabled` is false when it was on already. */
export interface SwapArea {
  readonly path: string;
  readonly enabled: boolean;
}

/** The swap areas the kernel has in use (`<procfs>/swaps`). */
export async function activeSwaps(procfs: string): Promise<Set<string>> {
  const file = `${procfs}/swaps`;
  try {
    return parseProcSwaps(await readFile(file, "utf8"));
  } catch (error) {
    throw AgentError.wrap(error, `cannot read the swap areas in use from ${file}`);
  }
}

/**
 * Enables the swap area at `path` (its real path, as /proc/swaps shows it). One already in use is left as
 * it is: a host that retries a call that timed out is answered OK, where Kata's agent answers EBUSY. When
 * swapon fails or is aborted after the kernel took the area (a timeout can land just after), it is
 * turned off again, so a failed call leaves no swap behind.
 */
export async function enableSwap(path: string, procfs: string, signal?: AbortSignal): Promise<SwapArea> {
  if ((await activeSwaps(procfs)).has(path)) return { path, enabled: false };
  try {
    await runCommand(["swapon", path], { timeoutMs: SWAP_COMMAND_TIMEOUT_MS, signal });
  } catch (error) {
    const failure = AgentError.wrap(error, `cannot enable swap on ${path}`);
    const inUse = await activeSwaps(procfs).catch(() => new Set<string>([path]));
    if (inUse.has(path)) {
      await runCommand(["swapoff", path], { timeoutMs: SWAP_COMMAND_TIMEOUT_MS }).catch((undo: unknown) => {
        throw new AgentError(
          failure.code,
          `${failure.message}; and it stays on: ${AgentError.from(undo).message}`,
          {
            cause: error,
          },
        );
      });
    }
    throw failure;
  }
  return { path, enabled: true };
}
