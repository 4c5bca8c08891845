import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { processExists } from "../sys/process-exists.js";

const BUILD_DIR = /^\.build-(\d+)-/;

/** The prefix of a temporary build directory or file (for mkdtemp): it names the process building in it. */
export function buildDirPrefix(pid = process.pid): string {
  return `.build-${pid}-`;
}

/**
 * Removes what builds in `cacheDir` left in their temporary places when their process died half way. What
 * such a build ran may live on for a moment (a `dpkg-deb -x` still writing), so removal is retried, and
 * what still cannot be removed is only logged: it is never taken for a finished image.
 */
export async function removeAbandonedBuilds(cacheDir: string, log: (message: string) => void): Promise<void> {
  const names = await readdir(cacheDir).catch(() => []);
  await Promise.all(
    names
      .filter((name) => {
        const pid = BUILD_DIR.exec(name)?.[1];
        return pid !== undefined && !processExists(Number(pid));
      })
      .map((name) =>
        rm(join(cacheDir, name), { recursive: true, force: true, maxRetries: 10, retryDelay: 200 }).catch(
          (error: unknown) => log(`cannot remove ${name}, left by a build that died: ${String(error)}`),
        ),
      ),
  );
}
