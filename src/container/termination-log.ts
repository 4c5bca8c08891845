import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { AgentError, Code } from "../errors.js";
import type { Spec } from "../oci/oci-spec.js";
import { hasErrno } from "../sys/errno.js";

export const TERMINATION_MESSAGE_PATH = "io.kubernetes.container.terminationMessagePath";

/** Kubernetes keeps at most 4096 bytes of a termination message; Kata's agent reads no more. */
export const TERMINATION_LOG_BYTES = 4096;

/**
 * The guest path of the file a container writes its termination message to: the source of the mount
 * at the destination Kubernetes names in the spec's annotation. None when the spec has no such mount.
 */
export function terminationLogSource(spec: Spec): string | undefined {
  const destination = spec.annotations?.[TERMINATION_MESSAGE_PATH];
  if (!destination) return undefined;
  return spec.mounts?.find((m) => m.destination === destination)?.source || undefined;
}

/**
 * The first 4096 bytes of a termination log, as UTF-8 (invalid bytes replaced); "" when the container wrote
 * none. The file is opened without following a symlink, and only a regular file is read.
 */
export async function readTerminationLog(path: string): Promise<string> {
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if (hasErrno(error, "ENOENT")) return "";
    throw AgentError.wrap(error, `cannot open the termination log ${path}`);
  }
  try {
    if (!(await file.stat()).isFile()) {
      throw new AgentError(Code.FAILED_PRECONDITION, `the termination log ${path} is not a regular file`);
    }
    const buffer = Buffer.alloc(TERMINATION_LOG_BYTES);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await file.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return buffer.toString("utf8", 0, length);
  } finally {
    await file.close();
  }
}
