import { readFile } from "node:fs/promises";
import { AgentError } from "../errors.js";

/** The guest's online CPUs in cpulist format ("0-3,5"), from `<sysfs>/devices/system/cpu/online`. */
export async function onlineCpus(sysfs = "/sys"): Promise<string> {
  const file = `${sysfs}/devices/system/cpu/online`;
  try {
    return (await readFile(file, "utf8")).trim();
  } catch (error) {
    throw AgentError.wrap(error, `cannot read the online CPUs from ${file}`);
  }
}
