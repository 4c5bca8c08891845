import { unlink } from "node:fs/promises";

/**
 * Removes a file; one that is not there is no error. One unlink(2), where fs.promises.rm with `force`
 * takes three (it stats the path twice first): it runs on every container's creation and removal.
 */
export async function removeFile(path: string): Promise<void> {
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error;
  });
}
