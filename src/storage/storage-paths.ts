import { posix } from "node:path";
import { type AgentPaths, sharedContainersDir } from "../config/agent-paths.js";
import { AgentError, Code } from "../errors.js";

const invalid = (what: string, value: string, why: string) =>
  new AgentError(Code.INVALID_ARGUMENT, `${what} ${JSON.stringify(value)} ${why}`);

/** Throws INVALID_ARGUMENT when `value` carries a NUL byte (the kernel would cut the string there). */
export function checkText(what: string, value: string): void {
  if (value.includes("\0")) throw invalid(what, value, "contains a NUL byte");
}

/**
 * `value` checked to be an absolute path with no `..` segment and no NUL byte, and normalised: no empty or
 * `.` segments, no trailing slash. Throws INVALID_ARGUMENT quoting the value otherwise.
 */
export function checkedPath(what: string, value: string): string {
  checkText(what, value);
  if (!value.startsWith("/")) throw invalid(what, value, "is not an absolute path");
  if (value.split("/").includes("..")) throw invalid(what, value, 'has a ".." segment');
  const normal = posix.normalize(value);
  return normal.length > 1 && normal.endsWith("/") ? normal.slice(0, -1) : normal;
}

/** A storage's mount point, checked and normalised: the key storages are counted by. Never "/". */
export function checkedMountPoint(value: string): string {
  const path = checkedPath("mount point", value);
  if (path === "/") throw invalid("mount point", value, "is the root directory");
  return path;
}

/** A rootless runtime's prefix of Kata's guest paths: `/run/user/<uid>`, uid a u32 other than 0, no leading 0. */
const ROOTLESS_PREFIX = /^\/run\/user\/([1-9][0-9]{0,9})(\/.+)$/;

/**
 * The directory a `watchable-bind` storage's mount point (checked) lies directly in, where berth mounts the
 * tmpfs its copies go to: `<shared dir>/watchable` (the Go runtime), `<shared dir>/passthrough/watchable`
 * (runtime-rs), or either under `/run/user/<uid>` (a rootless runtime). INVALID_ARGUMENT quoting the mount
 * point otherwise.
 */
export function watchableDirOf(mountPoint: string, paths: AgentPaths): string {
  const shared = posix.normalize(sharedContainersDir(paths));
  const allowed = [`${shared}/watchable`, `${shared}/passthrough/watchable`];
  const dir = posix.dirname(mountPoint);
  const rootless = ROOTLESS_PREFIX.exec(dir);
  const uid = Number(rootless?.[1] ?? 0);
  if (allowed.includes(dir) || (rootless && uid <= 0xffffffff && allowed.includes(rootless[2] ?? ""))) {
    return dir;
  }
  throw invalid(
    "watchable mount point",
    mountPoint,
    `is not directly in ${allowed.map((a) => JSON.stringify(a)).join(" or ")} (nor in one of them under /run/user/<uid>)`,
  );
}
