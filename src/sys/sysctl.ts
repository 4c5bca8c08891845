import { readFile } from "node:fs/promises";
import { AgentError, Code } from "../errors.js";
import type { CleanupStack } from "./cleanup-stack.js";
import { writeKernelFile } from "./write-kernel-file.js";

/** Longer keys are not sysctls; longer values do not fit the one page a /proc/sys write accepts. */
const MAX_KEY_LENGTH = 256;
const MAX_VALUE_LENGTH = 4096;

/** One path segment: an interface name may hold dots ("eth0.100"), never a slash; "." and ".." can't. */
const SEGMENT = /^[A-Za-z0-9_@+:-][A-Za-z0-9_.@+:-]*$/;

/**
 * The file under /proc/sys for a sysctl key, as sysctl(8) maps it: when the first separator is a dot,
 * dots and slashes swap ("net.ipv4.conf.eth0/100.forwarding" → net/ipv4/conf/eth0.100/forwarding);
 * when it is a slash, the key is already a path. Throws INVALID_ARGUMENT for a key that could name
 * anything outside /proc/sys.
 */
export function sysctlPath(key: string): string {
  const invalid = (why: string) =>
    new AgentError(Code.INVALID_ARGUMENT, `invalid sysctl key ${JSON.stringify(key.slice(0, 80))}: ${why}`);
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw invalid(`it must be 1 to ${MAX_KEY_LENGTH} characters`);
  }
  const first = key.search(/[./]/);
  const path = key[first] === "/" ? key : key.replace(/[./]/g, (c) => (c === "." ? "/" : "."));
  for (const segment of path.split("/")) {
    if (!SEGMENT.test(segment)) {
      throw invalid(`${segment ? `segment ${JSON.stringify(segment)}` : "an empty segment"} is not allowed`);
    }
  }
  return path;
}

/**
 * Writes sysctls to `<procSys>/<key path>`. Every key is checked before anything is written; then each
 * value is written in one write(2) to the existing file (never created: a missing key is NOT_FOUND
 * naming it). Errors name the key and value; the kernel's EINVAL for a bad value is INVALID_ARGUMENT.
 */
export async function writeSysctls(
  values: Readonly<Record<string, string>>,
  procSys = "/proc/sys",
): Promise<void> {
  for (const { key, value, file } of plannedWrites(values, procSys)) await writeOne(key, value, file);
}

/**
 * writeSysctls, with undo: before each write the value there is read, and an undo that writes it back is
 * pushed, so a failure half way through the list, or any later step's, restores each one written. A
 * write-only sysctl (nothing to read back) gets no undo.
 */
export async function writeSysctlsWithUndo(
  values: Readonly<Record<string, string>>,
  undo: CleanupStack,
  procSys = "/proc/sys",
): Promise<void> {
  for (const { key, value, file } of plannedWrites(values, procSys)) {
    const old = await readFile(file, "utf8").catch(() => undefined);
    await writeOne(key, value, file);
    if (old !== undefined) {
      const before = old.replace(/\n$/, "");
      undo.push(`restore sysctl ${key} to ${JSON.stringify(before)}`, () => writeOne(key, before, file));
    }
  }
}

/** Every key and value checked, before anything is written. */
function plannedWrites(values: Readonly<Record<string, string>>, procSys: string) {
  return Object.entries(values).map(([key, value]) => {
    const path = sysctlPath(key);
    if (Buffer.byteLength(value) > MAX_VALUE_LENGTH || value.includes("\0")) {
      throw new AgentError(
        Code.INVALID_ARGUMENT,
        `sysctl ${key}: the value must be at most ${MAX_VALUE_LENGTH} bytes, without NUL`,
      );
    }
    return { key, value, file: `${procSys}/${path}` };
  });
}

async function writeOne(key: string, value: string, file: string) {
  try {
    await writeKernelFile(file, value);
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code ?? "";
    if (errno === "ENOENT") {
      throw new AgentError(Code.NOT_FOUND, `sysctl ${key} does not exist (no ${file})`, { cause: error });
    }
    throw AgentError.wrap(error, `cannot set sysctl ${key} to ${JSON.stringify(value)}`);
  }
}
