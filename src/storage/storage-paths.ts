import { posix } from "node:path";
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
