import { close, closeSync, open, openSync, read, readSync } from "node:fs";

const FIRST_READ = 8192;
const MAX_SIZE = 1 << 20;

/**
 * The text of a small file the kernel generates (/proc, cgroup files), read with bare open, read until
 * end of file, close: a stats reply reads about thirty such files, and this takes about half the
 * thread-pool round trips of fs.promises.readFile (which also stats each file, only to find size 0).
 * Stops after `max` bytes. Rejects with the system error (its `code`, e.g. ENOENT) like fs does.
 */
export function readKernelFile(path: string, max = MAX_SIZE): Promise<string> {
  return new Promise((resolve, reject) => {
    open(path, "r", (openError, fd) => {
      if (openError) return reject(openError);
      let buffer = Buffer.allocUnsafe(Math.min(FIRST_READ, max));
      let length = 0;
      const finish = (error: NodeJS.ErrnoException | null) =>
        close(fd, () => (error ? reject(error) : resolve(buffer.toString("utf8", 0, length))));
      const next = () => {
        if (length === buffer.length) {
          if (length >= max) return finish(null);
          const bigger = Buffer.allocUnsafe(Math.min(buffer.length * 2, max));
          buffer.copy(bigger, 0, 0, length);
          buffer = bigger;
        }
        read(fd, buffer, length, buffer.length - length, null, (readError, bytesRead) => {
          if (readError || bytesRead === 0) return finish(readError);
          length += bytesRead;
          next();
        });
      };
      next();
    });
  });
}

let syncBuffer = Buffer.allocUnsafe(FIRST_READ);

/**
 * readKernelFile done synchronously, for procfs files read many at a time (a GetMetrics scrape reads ten):
 * the kernel makes their text on read(2) under short locks and never waits on a device, so the event loop
 * is held for microseconds, and a scrape costs a third of the CPU of ten async reads (40 thread-pool trips).
 * Not for files that can block (pipes, devices, sysfs attributes a driver answers). One buffer, kept and
 * grown, serves every call; no fstat.
 */
export function readKernelFileSync(path: string, max = MAX_SIZE): string {
  const fd = openSync(path, "r");
  try {
    let length = 0;
    while (length < max) {
      if (length === syncBuffer.length) {
        const bigger = Buffer.allocUnsafe(Math.min(syncBuffer.length * 2, max));
        syncBuffer.copy(bigger, 0, 0, length);
        syncBuffer = bigger;
      }
      const bytesRead = readSync(fd, syncBuffer, length, Math.min(syncBuffer.length, max) - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return syncBuffer.toString("utf8", 0, length);
  } finally {
    closeSync(fd);
  }
}
