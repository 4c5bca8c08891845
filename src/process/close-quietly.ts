import { closeSync } from "node:fs";

/**
 * Closes a pipe, pty or socket fd of a process's stdio at once: close(2) of these does not block, and a
 * close done now can never close the same number twice once it has been reused. Errors are ignored (the
 * fd is gone either way).
 */
export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // EBADF or EIO: the fd is gone either way
  }
}
