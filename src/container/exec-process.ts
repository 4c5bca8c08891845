import { writeFile } from "node:fs/promises";
import type { BundlePaths } from "../bundle/bundle-paths.js";
import type { Process } from "../oci/oci-spec.js";
import { specToJson } from "../oci/spec-json.js";
import { ContainerProcess } from "../process/container-process.js";
import { launchWithStdio, readPidFile } from "../process/launch.js";
import { removeFile } from "../sys/remove-file.js";
import { waitWhileRuncInit } from "../sys/signals.js";
import { type ContainerDeps, launchOptions } from "./container-deps.js";

let execSeq = 0;

/**
 * Starts an extra process in the container of `bundle` (`runc exec --detach`) with stdio berth holds,
 * registered for its exit. runc is never killed half way (a runc exec killed after the process started
 * would leave a process nobody knows); it is bounded by the runtime's own timeout, and the caller decides
 * what to do with a process whose call has ended meanwhile.
 */
export async function startExec(
  deps: ContainerDeps,
  bundle: BundlePaths,
  execId: string,
  spec: Process,
): Promise<ContainerProcess> {
  const { process: processFile, pid: pidFile } = bundle.exec(++execSeq);
  try {
    await writeFile(processFile, specToJson(spec), { mode: 0o600 });
    const io = await launchWithStdio(spec.terminal === true, launchOptions(deps), (stdio) =>
      deps.runc.exec(
        bundle.id,
        { process: processFile, pidFile, consoleSocket: stdio.consoleSocket },
        { stdio: stdio.fds },
      ),
    );
    const pid = await readPidFile(pidFile).catch((error: unknown) => {
      io.close();
      throw error;
    });
    const exited = deps.reaper.wait(pid);
    await waitWhileRuncInit(pid);
    return new ContainerProcess({ execId, pid, io, exited, init: false });
  } finally {
    await Promise.all([removeFile(processFile), removeFile(pidFile)]);
  }
}
