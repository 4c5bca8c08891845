import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

let known: string | undefined;

/**
 * Says where berth's package is, for code that cannot tell from its own location: the agent started from
 * a V8 start-up snapshot, whose modules were loaded when the snapshot was made.
 */
export function usePackageDir(dir: string): void {
  known = resolve(dir);
}

/** The first directory up from this module with a binding.gyp: from dist/src, or bundled into dist/bin. */
function findPackageDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "binding.gyp"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("cannot find berth's package directory (no binding.gyp above it)");
    dir = parent;
  }
  return dir;
}

/** The directory of berth's package (with package.json, build/ and dist/). */
export function packageDir(): string {
  known ??= findPackageDir();
  return known;
}
