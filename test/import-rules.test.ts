/** The layering of ../shared/design.md, checked on the sources: who may import whom. */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../../", import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(join(REPO, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => relative(REPO, join(e.parentPath, e.name)));
}

/** Repo-relative targets of a file's relative imports, and its package imports as written. */
function importsOf(file: string): { local: string[]; packages: string[] } {
  const text = readFileSync(join(REPO, file), "utf8");
  const specifiers = [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"/gms)].map(
    (m) => m[1] ?? "",
  );
  return {
    local: specifiers
      .filter((s) => s.startsWith("."))
      .map((s) => relative(REPO, resolve(REPO, dirname(file), s))),
    packages: specifiers.filter((s) => !s.startsWith(".")),
  };
}

function violations(files: string[], allowed: (target: string) => boolean): string[] {
  return files.flatMap((file) =>
    importsOf(file)
      .local.filter((t) => !allowed(t))
      .map((t) => `${file} → ${t}`),
  );
}

const nonTest = (f: string) => !/\.test(-util)?\.ts$/.test(f);

describe("import rules", () => {
  it("keeps the ttrpc module self-contained, with no dependencies", () => {
    const files = sources("src/protocol/ttrpc").filter(nonTest);
    assert.deepEqual(
      violations(files, (t) => t.startsWith("src/protocol/ttrpc/")),
      [],
    );
    const packages = files.flatMap((f) => importsOf(f).packages).filter((p) => !p.startsWith("node:"));
    assert.deepEqual(packages, []);
  });

  it("keeps protocol code out of the RPC handlers and the domain", () => {
    const files = sources("src/protocol").filter(nonTest);
    const allowed = (t: string) => t.startsWith("src/protocol/") || t === "src/errors.js";
    assert.deepEqual(violations(files, allowed), []);
  });

  it("keeps sys/ and transport/ below the RPC layer", () => {
    const files = [...sources("src/sys"), ...sources("src/transport")].filter(nonTest);
    const allowed = (t: string) =>
      !t.startsWith("src/rpc/") && !t.startsWith("src/protocol/gen/") && t !== "src/agent-server.js";
    assert.deepEqual(violations(files, allowed), []);
  });
});
