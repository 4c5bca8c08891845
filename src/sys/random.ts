import { closeSync, openSync, readSync } from "node:fs";
import { AgentError, Code } from "../errors.js";
import { native } from "./native.js";

/**
 * `bytes` random bytes from the kernel, as hex. Read from /dev/urandom rather than node:crypto: loading
 * OpenSSL would add ~1.7 MB to the agent's start-up snapshot, and so to its resident memory.
 */
export function randomHex(bytes: number): string {
  const buffer = Buffer.alloc(bytes);
  const fd = openSync("/dev/urandom", "r");
  try {
    for (let done = 0; done < bytes; ) done += readSync(fd, buffer, done, bytes - done, null);
  } finally {
    closeSync(fd);
  }
  return buffer.toString("hex");
}

/** Kata's host sends 512 bytes; more than this is not a seed but a flood. */
export const MAX_SEED_BYTES = 64 * 1024;

/**
 * Mixes `seed` into the kernel's pool, credited in full, and reseeds the CRNG from it at once, so that a
 * VM restored from a template stops sharing its random stream with its siblings. Kata's agent credits
 * bytes as bits (8× too little) and only writes when it cannot ioctl; here a failed ioctl is an error.
 */
export function reseedKernelRandom(seed: Uint8Array): void {
  if (seed.length === 0) throw new AgentError(Code.INVALID_ARGUMENT, "ReseedRandomDev: no entropy data");
  if (seed.length > MAX_SEED_BYTES) {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      `ReseedRandomDev: ${seed.length} bytes of entropy data, more than the ${MAX_SEED_BYTES} accepted`,
    );
  }
  try {
    native().addEntropy(seed);
  } catch (error) {
    throw AgentError.wrap(
      error,
      `cannot add ${seed.length} bytes to the kernel's entropy pool and reseed it`,
    );
  }
}
