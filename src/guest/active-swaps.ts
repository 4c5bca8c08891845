/** `\040`-style escapes, as the kernel's seq_file writes a space, tab, newline or backslash in a path. */
function unescapeOctal(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** The paths of the swap areas in use, from the text of /proc/swaps (a header line, then one line each). */
export function parseProcSwaps(text: string): Set<string> {
  const paths = new Set<string>();
  for (const line of text.split("\n").slice(1)) {
    const name = line.split(/\s+/, 1)[0];
    if (name) paths.add(unescapeOctal(name));
  }
  return paths;
}
