import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { AgentError, Code } from "../errors.js";
import { pathExists } from "../sys/path-exists.js";

/** Where berth lives in the guest image, and its launcher, which the image's /init links to. */
export const BERTH_IN_IMAGE = "usr/lib/berth";
export const BERTH_LAUNCHER = `${BERTH_IN_IMAGE}/dist/bin/berth-agent`;

/** berth's own ELF files, whose libraries the image needs too. */
export const BERTH_BINARIES = ["build/Release/berth_native.node", "build/Release/berth-pause"];

/**
 * The files of a built berth checkout the agent runs from, relative to it: the launcher, the bundle and its
 * chunks (everything it imports is bundled: no node_modules), the gRPC server script, the native addon and
 * berth-pause, and package.json and binding.gyp (the agent finds its package by the latter). Not the V8
 * snapshot (PID 1 starts from the plain bundle), source maps or berthctl.
 */
export async function berthFiles(packageDir: string): Promise<string[]> {
  const fixed = [
    "package.json",
    "binding.gyp",
    "dist/bin/berth-agent",
    "dist/bin/berth-agent.js",
    "dist/bin/berth-grpc.cjs",
    ...BERTH_BINARIES,
  ];
  const missing = [];
  for (const file of fixed) if (!(await pathExists(join(packageDir, file)))) missing.push(file);
  if (missing.length > 0) {
    throw new AgentError(
      Code.FAILED_PRECONDITION,
      `${packageDir} is not a built berth checkout (no ${missing.join(", ")}): run npm ci and npm run build there`,
    );
  }
  const chunkDir = join(packageDir, "dist/bin/chunks");
  const names = await readdir(chunkDir).catch((error: unknown) => {
    throw AgentError.wrap(error, `cannot list the bundle's chunks in ${chunkDir}`);
  });
  const chunks = names.filter((name) => name.endsWith(".js")).map((name) => `dist/bin/chunks/${name}`);
  return [...fixed, ...chunks].sort();
}
