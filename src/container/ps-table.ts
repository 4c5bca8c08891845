import { AgentError, Code } from "../errors.js";

/**
 * Filters `ps` output down to a container's processes, as runc ps and Kata 1.x do: the header line,
 * then each line whose field under the header's PID column is one of `pids`, each ending in a newline.
 * A line without a pid there (blank, torn, shifted by a column wider than its header) is left out
 * rather than failing the call. INVALID_ARGUMENT when the header has no PID column (e.g. `-o comm`).
 */
export function psTableOf(output: string, pids: readonly number[]): string {
  const [header = "", ...lines] = output.split("\n");
  const column = header.trim().split(/\s+/).indexOf("PID");
  if (column < 0) {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      `ps printed no PID column (header ${JSON.stringify(header.slice(0, 200))}): cannot tell the container's processes`,
    );
  }
  const wanted = new Set(pids.map(String));
  const kept = lines.filter((line) => {
    const field = line.trim().split(/\s+/)[column];
    return field !== undefined && wanted.has(field);
  });
  return [header, ...kept].map((line) => `${line}\n`).join("");
}
