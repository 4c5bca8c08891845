import { AgentError, Code } from "../errors.js";
import { CommandError, runCommand } from "../sys/exec.js";

/**
 * The absolute paths of the libraries in `ldd` output, the dynamic loader's among them, in the order
 * listed: `name => /path (0x…)` and `/path (0x…)` lines. The vDSO (no path) is the kernel's; a library
 * ldd cannot find is an error.
 */
export function librariesInLdd(lddOutput: string, binary: string): string[] {
  const paths: string[] = [];
  for (const raw of lddOutput.split("\n")) {
    const line = raw.trim();
    if (line === "") continue;
    if (/=>\s*not found$/.test(line)) {
      throw new AgentError(Code.NOT_FOUND, `${binary} needs ${line.split(/\s/)[0]}, which ldd cannot find`);
    }
    const path = /^(?:\S+\s+=>\s+)?(\/\S+)\s+\(0x[0-9a-f]+\)$/.exec(line)?.[1];
    if (path) paths.push(path);
  }
  return paths;
}

/** The libraries (and loader) that `binary` needs, as `ldd` resolves them here; none if it is static. */
export async function sharedLibraries(binary: string, signal?: AbortSignal): Promise<string[]> {
  let stdout: string;
  try {
    ({ stdout } = await runCommand(["ldd", binary], { signal, timeoutMs: 30_000 }));
  } catch (error) {
    if (error instanceof CommandError && /not a dynamic executable/.test(error.stderr)) return [];
    throw error;
  }
  const libraries = librariesInLdd(stdout, binary);
  if (libraries.length === 0) {
    throw new AgentError(Code.INVALID_ARGUMENT, `ldd lists no libraries for ${binary}`);
  }
  return libraries;
}
