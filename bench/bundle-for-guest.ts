import { build } from "esbuild";

/** One self-contained ESM file of `entry` (a built dist/bench script) that the guest's node runs. */
export async function bundleForGuest(entry: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    logLevel: "warning",
    banner: {
      js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);",
    },
  });
}
