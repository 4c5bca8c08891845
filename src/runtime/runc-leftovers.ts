import { readFile, rm } from "node:fs/promises";
import { removeCgroup } from "../cgroup/cgroup-kill.js";
import { AgentError, Code } from "../errors.js";
import { parseMountinfo } from "../sys/mountinfo.js";
import { pathExists } from "../sys/path-exists.js";
import { runcCgroupDirs } from "./runc-cgroups.js";

/** A state dir runc made but never wrote its state into: `runc create` was killed half way. */
export async function isHalfMade(stateDir: string): Promise<boolean> {
  return (await pathExists(stateDir)) && !(await pathExists(`${stateDir}/state.json`));
}

/** The spec's linux.cgroupsPath in `bundle`/config.json; "" (runc's default) when there is none to read. */
async function cgroupsPathOf(bundle: string | undefined): Promise<string> {
  if (bundle === undefined) return "";
  try {
    const spec = JSON.parse(await readFile(`${bundle}/config.json`, "utf8")) as {
      linux?: { cgroupsPath?: unknown };
    };
    return typeof spec.linux?.cgroupsPath === "string" ? spec.linux.cgroupsPath : "";
  } catch {
    return "";
  }
}

/**
 * Takes down what a killed `runc create` left of container `id`: the processes in the cgroups runc made
 * for it, those cgroups, and its state dir. Every cgroup is tried; the error names each that failed.
 */
export async function deleteHalfMade(
  id: string,
  stateDir: string,
  bundle: string | undefined,
): Promise<void> {
  const [own, mountinfo] = await Promise.all([
    readFile("/proc/self/cgroup", "utf8"),
    readFile("/proc/self/mountinfo", "utf8"),
  ]);
  const dirs = runcCgroupDirs(id, await cgroupsPathOf(bundle), own, parseMountinfo(mountinfo));
  const failures: string[] = [];
  for (const dir of dirs) {
    await removeCgroup(dir).catch((error: unknown) => failures.push(AgentError.from(error).message));
  }
  await rm(stateDir, { recursive: true, force: true });
  if (failures.length > 0) {
    throw new AgentError(
      Code.INTERNAL,
      `container ${id}, left half made by runc create: ${failures.join("; ")}`,
    );
  }
}
