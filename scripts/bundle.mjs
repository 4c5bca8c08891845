// Bundles the two programs tsc emitted into dist/bin, in place: one file each (plus shared chunks, and
// the gRPC server as a chunk of its own that loads on the first gRPC connection). Node then reads a few
// files instead of some hundred modules: the agent answers its first call about 100 ms sooner.
import { build } from "esbuild";

await build({
  entryPoints: ["dist/bin/berth-agent.js", "dist/bin/berthctl.js"],
  outdir: "dist/bin",
  allowOverwrite: true,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  chunkNames: "chunks/[name]-[hash]",
  sourcemap: "linked",
  logLevel: "warning",
  // CommonJS dependencies (pino) call require() for Node's own modules.
  banner: {
    js: "import { createRequire as __berthRequire } from 'node:module'; const require = __berthRequire(import.meta.url);",
  },
});
