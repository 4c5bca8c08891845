import { closeSync, openSync, readSync } from "node:fs";

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
