import { lstat, readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Logger } from "../log.js";
import type { Hook } from "../oci/oci-spec.js";

/** The hook types a guest hook directory may hold, one subdirectory each. */
export type GuestHookType = "prestart" | "poststart" | "poststop";

/** Hooks found in the guest image, added to every container of the sandbox. */
export type GuestHooks = { readonly [T in GuestHookType]: readonly Hook[] };

type HookLog = Pick<Logger, "info" | "warn">;

/**
 * Scans `<dir>/{prestart,poststart,poststop}/` (Kata's `guest_hook_path`) for regular, executable files
 * that are not symlinks. Each becomes `{ path, args: [name, hookType] }`, the argv Kata's agents give
 * (argv[0] is the file's name). Sorted by name, so the order does not depend on the filesystem.
 * Never throws: a missing or unreadable directory gives no hooks of that type, and problems are logged.
 */
export async function scanGuestHooks(dir: string, log: HookLog): Promise<GuestHooks> {
  const root = resolve(dir);
  return {
    prestart: await findHooks(root, "prestart", log),
    poststart: await findHooks(root, "poststart", log),
    poststop: await findHooks(root, "poststop", log),
  };
}

async function findHooks(dir: string, type: GuestHookType, log: HookLog): Promise<Hook[]> {
  const hooksDir = join(dir, type);
  let names: string[];
  try {
    names = await readdir(hooksDir);
  } catch (error) {
    const fields = { err: error, hookType: type, dir: hooksDir };
    if ((error as NodeJS.ErrnoException).code === "ENOENT") log.info(fields, "no guest hooks of this type");
    else log.warn(fields, "cannot read the guest hook directory; no hooks of this type");
    return [];
  }
  const hooks: Hook[] = [];
  for (const name of names.sort(byCodeUnit)) {
    const path = join(hooksDir, name);
    const why = await unusable(path);
    if (why) {
      log.warn({ hook: path, hookType: type }, `skipping guest hook: ${why}`);
      continue;
    }
    hooks.push({ path, args: [name, type] });
  }
  log.info({ hookType: type, count: hooks.length }, "guest hooks found");
  return hooks;
}

/** Why the file cannot be a hook, or undefined when it can. */
async function unusable(path: string): Promise<string | undefined> {
  try {
    const stats = await lstat(path);
    if (stats.isSymbolicLink()) return "it is a symbolic link";
    if (!stats.isFile()) return "it is not a regular file";
    if ((stats.mode & 0o111) === 0) return "it is not executable";
    return undefined;
  } catch (error) {
    return `cannot stat it (${(error as Error).message})`;
  }
}

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
