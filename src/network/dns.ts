import { writeFile } from "node:fs/promises";
import { AgentError, Code } from "../errors.js";
import type { CleanupStack } from "../sys/cleanup-stack.js";
import { bindMount, UnmountFlag, unmount } from "../sys/mount.js";

/** resolv.conf lines must be single lines: a newline would smuggle in an option the host did not send. */
export function resolvConfFromLines(lines: readonly string[]): string {
  for (const line of lines) {
    if (/[\n\r\0]/.test(line)) {
      throw new AgentError(
        Code.INVALID_ARGUMENT,
        `dns line ${JSON.stringify(line)} holds a line break or NUL`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Writes the sandbox's resolv.conf to `file` and bind-mounts it over the guest's `target`, as both Kata
 * agents do, so containers that bind the guest's resolv.conf see the host's DNS. Pushes its undo.
 */
export async function setupDns(lines: readonly string[], file: string, target: string, undo: CleanupStack) {
  await writeFile(file, resolvConfFromLines(lines), { mode: 0o644 });
  await bindMount(file, target);
  undo.push(`unmount ${target}`, () => unmount(target, UnmountFlag.DETACH));
}
