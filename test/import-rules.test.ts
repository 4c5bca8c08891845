/** The layering of ../shared/design.md, checked on the sources: who may import whom. */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../../", import.meta.url));

/**
 * Each module of src/ (a folder, or a file at the top) and the modules it may import, besides itself. The
 * bottom comes first: errors, then what the edges (sys/, transport/) need, then the domain, then the RPC
 * layer and the programs. A module missing here fails the test, so a new one is placed on purpose.
 */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  errors: [],
  version: [],
  "package-dir": [],
  log: ["errors", "version"],
  sys: ["errors", "log", "package-dir"],
  transport: ["errors", "sys", "protocol/mux"],
  config: ["errors", "log", "transport"],
  oci: ["errors"],
  bundle: ["errors", "config"],
  cgroup: ["errors", "log", "sys"],
  runtime: ["errors", "log", "cgroup", "sys"],
  process: ["errors", "log", "sys"],
  network: ["errors", "log", "device", "sys"],
  device: ["errors", "log", "oci", "sys"],
  storage: ["errors", "log", "config", "bundle", "device", "sys"],
  init: ["errors", "log", "sys"],
  metrics: ["errors", "log", "sys"],
  container: [
    "errors",
    "log",
    "config",
    "oci",
    "bundle",
    "cgroup",
    "runtime",
    "process",
    "device",
    "storage",
    "sys",
  ],
  sandbox: ["errors", "log", "config", "oci", "bundle", "container", "network", "storage", "runtime", "sys"],
  guest: ["errors", "log", "config", "version", "device", "storage", "runtime", "sys"],
  policy: ["errors"],
  "protocol/ttrpc": [],
  "protocol/mux": [],
  "protocol/gen": [],
  "protocol/grpc": ["protocol", "protocol/ttrpc"],
  protocol: ["errors", "protocol/ttrpc"],
  rpc: [
    "errors",
    "log",
    "version",
    "oci",
    "container",
    "sandbox",
    "guest",
    "network",
    "policy",
    "storage",
    "metrics",
    "protocol",
    "protocol/gen",
    "sys",
  ],
  "agent-server": [
    "errors",
    "log",
    "guest",
    "policy",
    "network",
    "metrics",
    "sandbox",
    "storage",
    "rpc",
    "protocol",
    "protocol/gen",
    "protocol/grpc",
    "protocol/ttrpc",
    "transport",
    "sys",
  ],
  "grpc-server-from-file": ["package-dir", "protocol/grpc"],
  "agent-main": [
    "errors",
    "log",
    "version",
    "config",
    "sys",
    "runtime",
    "storage",
    "device",
    "sandbox",
    "guest",
    "network",
    "metrics",
    "init",
    "transport",
    "agent-server",
  ],
  ctl: ["errors", "version", "sys", "transport", "oci", "protocol/ttrpc", "protocol/gen"],
  vm: ["errors", "log", "sys", "package-dir", "transport", "protocol/mux", "protocol/ttrpc", "protocol/gen"],
};

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
  const dynamic = [...text.matchAll(/\bimport\("(\.[^"]+)"\)/g)].map((m) => m[1] ?? "");
  return {
    local: [...specifiers, ...dynamic]
      .filter((s) => s.startsWith("."))
      .map((s) => relative(REPO, resolve(REPO, dirname(file), s))),
    packages: specifiers.filter((s) => !s.startsWith(".")),
  };
}

/** The module a path of src/ belongs to: its folder ("sandbox", "protocol/ttrpc"), or a top file's name. */
function moduleOf(path: string): string {
  const parts = path.split("/").slice(1);
  if (parts.length === 1) return (parts[0] ?? "").replace(/\.(ts|js)$/, "");
  if (parts[0] === "protocol" && parts.length > 2) return `protocol/${parts[1]}`;
  return parts[0] ?? "";
}

const nonTest = (f: string) => !/\.test(-util)?\.ts$/.test(f);

describe("import rules", () => {
  const files = sources("src").filter(nonTest);

  it("places every module of src/ in the table", () => {
    const unplaced = [...new Set(files.map(moduleOf))].filter((m) => !(m in ALLOWED));
    assert.deepEqual(unplaced, []);
  });

  it("lets each module import only the modules the table allows it", () => {
    const broken = files.flatMap((file) => {
      const from = moduleOf(file);
      const allowed = new Set([from, ...(ALLOWED[from] ?? [])]);
      return importsOf(file)
        .local.filter((target) => target.startsWith("src/") && !allowed.has(moduleOf(target)))
        .map((target) => `${file} → ${target}`);
    });
    assert.deepEqual(broken, []);
  });

  it("keeps the ttrpc module self-contained, with no dependencies", () => {
    const ttrpc = files.filter((f) => moduleOf(f) === "protocol/ttrpc");
    const packages = ttrpc.flatMap((f) => importsOf(f).packages).filter((p) => !p.startsWith("node:"));
    assert.deepEqual(packages, []);
  });
});
