import { Code } from "../protocol/ttrpc/code.js";

const CODE_BY_ERRNO: Readonly<Record<string, Code>> = {
  ENOENT: Code.NOT_FOUND,
  ESRCH: Code.NOT_FOUND,
  ENODEV: Code.NOT_FOUND,
  ENXIO: Code.NOT_FOUND,
  EEXIST: Code.ALREADY_EXISTS,
  EADDRINUSE: Code.ALREADY_EXISTS,
  EINVAL: Code.INVALID_ARGUMENT,
  ENAMETOOLONG: Code.INVALID_ARGUMENT,
  ENOTDIR: Code.INVALID_ARGUMENT,
  EISDIR: Code.INVALID_ARGUMENT,
  ELOOP: Code.INVALID_ARGUMENT,
  EAFNOSUPPORT: Code.INVALID_ARGUMENT,
  EPERM: Code.PERMISSION_DENIED,
  EACCES: Code.PERMISSION_DENIED,
  EROFS: Code.PERMISSION_DENIED,
  EBUSY: Code.FAILED_PRECONDITION,
  ENOTEMPTY: Code.FAILED_PRECONDITION,
  ENOSPC: Code.RESOURCE_EXHAUSTED,
  ENOMEM: Code.RESOURCE_EXHAUSTED,
  EMFILE: Code.RESOURCE_EXHAUSTED,
  ENFILE: Code.RESOURCE_EXHAUSTED,
  EAGAIN: Code.UNAVAILABLE,
  ETIMEDOUT: Code.DEADLINE_EXCEEDED,
  ETIME: Code.DEADLINE_EXCEEDED,
  ENOSYS: Code.UNIMPLEMENTED,
  EOPNOTSUPP: Code.UNIMPLEMENTED,
  ENOTSUP: Code.UNIMPLEMENTED,
};

/** The status code for a Node system error code ("ENOENT" → NOT_FOUND); INTERNAL for the rest. */
export function codeFromErrno(errno: string): Code {
  return CODE_BY_ERRNO[errno] ?? Code.INTERNAL;
}

/** Whether `error` is a system error with one of these codes ("ENOENT", …). */
export function hasErrno(error: unknown, ...codes: string[]): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === "string" && codes.includes(code);
}
