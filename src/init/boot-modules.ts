import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../log.js";
import { runCommand } from "../sys/exec.js";

export const MODULES_LOAD_DIR = "/etc/modules-load.d";

/** Module names of a modules-load.d file (systemd's format): one a line; `#` and `;` start comments. */
export function modulesListed(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#") && !line.startsWith(";"));
}

/**
 * Loads the modules the image lists in /etc/modules-load.d/*.conf (files in name order), with one
 * modprobe: the drivers of the guest's devices, its agent port among them, before the agent listens. A
 * module that cannot be loaded is logged, never fatal: the agent still serves what it can.
 */
export async function loadBootModules(log: Logger, dir = MODULES_LOAD_DIR): Promise<string[]> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith(".conf")).sort();
  const names: string[] = [];
  for (const file of files) names.push(...modulesListed(await readFile(join(dir, file), "utf8")));
  if (names.length === 0) return [];
  try {
    await runCommand(["modprobe", "-a", ...names], { timeoutMs: 30_000 });
    log.info({ modules: names }, "loaded the boot modules");
  } catch (error) {
    log.warn({ modules: names, err: error }, "cannot load every boot module");
  }
  return names;
}
