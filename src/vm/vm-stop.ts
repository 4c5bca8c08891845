import { readFile, unlink } from "node:fs/promises";
import { AgentError, Code } from "../errors.js";
import { processExists } from "../sys/process-exists.js";
import { qmpCommand } from "./qmp.js";

const EXIT_BOUND_MS = 10_000;

/**
 * Ends the VM: QMP `quit`, on a connection of its own, then waits until QEMU has closed it (it is
 * exiting), and with `pidFile` until that process is gone too (the file is removed then).
 */
export async function stopVm(options: { qmpSocket: string; pidFile?: string | undefined }): Promise<void> {
  const pid = options.pidFile
    ? Number.parseInt(await readFile(options.pidFile, "utf8").catch(() => ""), 10)
    : Number.NaN;
  await qmpCommand(options.qmpSocket, "quit", undefined, { untilClosed: true, timeoutMs: EXIT_BOUND_MS });
  if (!Number.isInteger(pid)) return;
  const end = Date.now() + EXIT_BOUND_MS;
  while (processExists(pid)) {
    if (Date.now() > end) throw new AgentError(Code.DEADLINE_EXCEEDED, `QEMU (pid ${pid}) is still running`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  if (options.pidFile) await unlink(options.pidFile).catch(() => undefined);
}
