import { open, readdir } from "node:fs/promises";
import { join, relative } from "node:path";
import { throwIfAborted } from "../sys/abort.js";
import { CpioWriter, fileSink } from "./cpio.js";
import type { ImageEntry } from "./image-manifest.js";

/** Entries for everything beneath `root`/`under` (directories and regular files), at their path in `root`. */
export async function treeEntries(root: string, under: string): Promise<ImageEntry[]> {
  const entries: ImageEntry[] = [];
  for (const dirent of await readdir(join(root, under), { withFileTypes: true, recursive: true })) {
    const source = join(dirent.parentPath, dirent.name);
    const path = relative(root, source);
    if (dirent.isDirectory()) entries.push({ type: "directory", path, mode: 0o755 });
    else if (dirent.isFile()) entries.push({ type: "file", path, mode: 0o644, source });
  }
  return entries;
}

/**
 * Writes `entries` (completed and sorted: see completeTree) as an uncompressed newc cpio archive to `path`,
 * flushed to disk; returns its size.
 */
export async function writeInitrd(
  entries: readonly ImageEntry[],
  path: string,
  signal?: AbortSignal,
): Promise<number> {
  const handle = await open(path, "wx");
  try {
    const cpio = new CpioWriter(fileSink(handle));
    for (const entry of entries) {
      throwIfAborted(signal);
      switch (entry.type) {
        case "directory":
          await cpio.directory(entry.path, entry.mode);
          break;
        case "symlink":
          await cpio.symlink(entry.path, entry.target);
          break;
        case "file":
          await cpio.fileFrom(entry.path, entry.mode, entry.source);
          break;
        case "text":
          await cpio.file(entry.path, entry.mode, Buffer.from(entry.text));
          break;
      }
    }
    await cpio.finish();
    await handle.sync();
    return cpio.size;
  } finally {
    await handle.close();
  }
}
