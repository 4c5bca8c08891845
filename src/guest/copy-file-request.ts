import { constants } from "node:fs";
import { resolve } from "node:path";
import { AgentError, Code } from "../errors.js";

/** CopyFileRequest as it comes off the wire (the generated message satisfies this). */
export interface CopyFileFields {
  path: string;
  fileSize: bigint;
  fileMode: number;
  dirMode: number;
  uid: number;
  gid: number;
  offset: bigint;
  data: Uint8Array;
}

export type CopyKind = "file" | "directory" | "symlink";

/** One checked CopyFile request: where below the shared directory, what, and with which attributes. */
export interface CopyPlan {
  /** The request's path, for messages. */
  path: string;
  /** The path below the shared directory, normalised ("a/b/c"): one upload per key. */
  relative: string;
  /** The directories between the shared directory and the target, outermost first. */
  parents: readonly string[];
  name: string;
  kind: CopyKind;
  /** The target's permission bits, setuid, setgid and sticky included. */
  mode: number;
  /** Permission bits of the parent directories the copy has to create. */
  dirMode: number;
  uid: number;
  gid: number;
  fileSize: number;
  offset: number;
  /** File contents at `offset`. */
  data: Uint8Array;
  /** A symlink's target (from `data`); "" for the other kinds. */
  target: string;
}

const PERMISSION_BITS = 0o7777;
const DIRECTORY_BITS = 0o777;
const NAME_MAX = 255;
const PATH_MAX = 4096;

function invalid(path: string, why: string): AgentError {
  return new AgentError(Code.INVALID_ARGUMENT, `CopyFile ${JSON.stringify(path)}: ${why}`);
}

/** The S_IFMT bits of `file_mode`, compared whole (Kata tests single bits, so a block device became a directory). */
function kindOf(path: string, fileMode: number): CopyKind {
  const type = fileMode & constants.S_IFMT;
  if (type === 0 || type === constants.S_IFREG) return "file";
  if (type === constants.S_IFDIR) return "directory";
  if (type === constants.S_IFLNK) return "symlink";
  throw invalid(
    path,
    `file_mode 0o${fileMode.toString(8)} is neither a regular file, a directory nor a symlink`,
  );
}

/** The path's components below `sharedDir`; `.` and empty ones dropped, `..` refused rather than resolved. */
function componentsBelow(path: string, sharedDir: string): string[] {
  if (!path.startsWith("/")) throw invalid(path, "the path must be absolute");
  if (path.includes("\0")) throw invalid(path, "the path contains a NUL byte");
  if (Buffer.byteLength(path) >= PATH_MAX) throw invalid(path, `the path is ${PATH_MAX} bytes or longer`);
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw invalid(path, "the path must not contain '..'");
  const root = resolve(sharedDir).split("/").filter(Boolean);
  if (parts.length <= root.length || root.some((r, i) => parts[i] !== r)) {
    throw invalid(path, `the path must name something inside ${resolve(sharedDir)}`);
  }
  const below = parts.slice(root.length);
  const long = below.find((p) => Buffer.byteLength(p) > NAME_MAX);
  if (long !== undefined)
    throw invalid(path, `the name ${JSON.stringify(long)} is longer than ${NAME_MAX} bytes`);
  return below;
}

function safeNumber(path: string, field: string, value: bigint): number {
  if (value < 0n) throw invalid(path, `${field} ${value} is negative`);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid(path, `${field} ${value} is too large`);
  return Number(value);
}

/** A symlink's target: the bytes of `data`, which must be UTF-8 without NUL, 1 to 4095 bytes. */
function linkTarget(path: string, data: Uint8Array): string {
  if (data.length === 0) throw invalid(path, "a symlink needs its target in data");
  if (data.length >= PATH_MAX) throw invalid(path, `the symlink target is ${PATH_MAX} bytes or longer`);
  if (data.includes(0)) throw invalid(path, "the symlink target contains a NUL byte");
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(data);
  } catch {
    throw invalid(path, "the symlink target is not UTF-8");
  }
}

function checkExtent(plan: CopyPlan): void {
  const { path, kind, offset, fileSize, data } = plan;
  if (kind !== "file") {
    if (offset !== 0) throw invalid(path, `offset ${offset} for a ${kind}, which comes in one request`);
    return;
  }
  if (offset > fileSize) throw invalid(path, `offset ${offset} is beyond file_size ${fileSize}`);
  if (offset + data.length > fileSize) {
    throw invalid(path, `${data.length} bytes at offset ${offset} run past file_size ${fileSize}`);
  }
}

/**
 * Checks a CopyFile request against Kata's contract: `path` is absolute and inside the shared directory,
 * `file_mode`'s type bits say file, directory or symlink, and a file's chunk lies within `file_size`.
 * Nothing here touches the filesystem; confinement against symlinks is the kernel's job when the plan runs.
 */
export function planCopy(req: CopyFileFields, sharedDir: string): CopyPlan {
  const below = componentsBelow(req.path, sharedDir);
  const name = below.at(-1) as string;
  const kind = kindOf(req.path, req.fileMode);
  const plan: CopyPlan = {
    path: req.path,
    relative: below.join("/"),
    parents: below.slice(0, -1),
    name,
    kind,
    mode: req.fileMode & PERMISSION_BITS,
    dirMode: req.dirMode & DIRECTORY_BITS,
    // int32 on the wire; the host sends uid_t bits (as Kata reads them: `uid as u32`).
    uid: req.uid >>> 0,
    gid: req.gid >>> 0,
    fileSize: safeNumber(req.path, "file_size", req.fileSize),
    offset: safeNumber(req.path, "offset", req.offset),
    data: req.data,
    target: kind === "symlink" ? linkTarget(req.path, req.data) : "",
  };
  checkExtent(plan);
  return plan;
}
