import { readdirSync, readFileSync } from "node:fs";

const TESTDATA = new URL("../../../src/cgroup/testdata/", import.meta.url);

/** Every file of fixture directory `name` (src/cgroup/testdata/<name>), as a reader would hand them over. */
export function fixtureFiles(name: string): Map<string, string> {
  const dir = new URL(`${name}/`, TESTDATA);
  return new Map(readdirSync(dir).map((file) => [file, readFileSync(new URL(file, dir), "utf8")]));
}

/** `files` with some replaced (a string) or removed (undefined). */
export function withFiles(
  files: ReadonlyMap<string, string>,
  changes: Record<string, string | undefined>,
): Map<string, string> {
  const copy = new Map(files);
  for (const [name, text] of Object.entries(changes)) {
    if (text === undefined) copy.delete(name);
    else copy.set(name, text);
  }
  return copy;
}
