/**
 * The iptables-save / iptables-restore text format, as far as putting tables back needs it: a table opens
 * on a line whose first character is `*`, followed by its name, and closes at a line `COMMIT`.
 */

/** The tables iptables and ip6tables have; iptables-restore refuses any other name. */
const TABLES: ReadonlySet<string> = new Set(["filter", "nat", "mangle", "raw", "security"]);

const linesOf = (text: string) => text.split("\n");

/**
 * The tables a restore document opens, in order, each once. The name is read as iptables-restore reads it
 * (the first word after the `*`, split at spaces and tabs); names that are not iptables tables are left
 * out, since the tool refuses them before committing anything of theirs.
 */
export function tablesOf(document: string): string[] {
  const tables = new Set<string>();
  for (const line of linesOf(document)) {
    if (!line.startsWith("*")) continue;
    const name = line.slice(1).split(/[ \t]/, 1)[0] ?? "";
    if (TABLES.has(name)) tables.add(name);
  }
  return [...tables];
}

/** The lines of `table` in iptables-save output, from `*table` to its `COMMIT`; undefined if it has none. */
export function sectionOf(saved: string, table: string): string | undefined {
  const lines = linesOf(saved);
  const start = lines.indexOf(`*${table}`);
  if (start < 0) return undefined;
  const end = lines.indexOf("COMMIT", start);
  return end < 0 ? undefined : lines.slice(start, end + 1).join("\n");
}

/**
 * A restore document that puts `tables` back as they are in `saved` (iptables-save output, with counters
 * if it is restored with them). A table `saved` lacks did not exist: it is given as an empty table, which
 * the nf_tables backend deletes and the legacy one flushes.
 */
export function undoDocument(tables: readonly string[], saved: string): string {
  return tables.map((table) => `${sectionOf(saved, table) ?? `*${table}\nCOMMIT`}\n`).join("");
}
