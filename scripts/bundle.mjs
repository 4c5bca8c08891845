// Bundles the three programs tsc emitted into dist/bin, in place: one file each (plus shared chunks, and
// the gRPC server as a chunk of its own that loads on the first gRPC connection). Node then reads a few
// files instead of some hundred modules: the agent answers its first call about 100 ms sooner.
//
// Then the agent's V8 start-up snapshot, dist/bin/berth-agent.blob: the whole agent loaded and initialised
// once, here, so that a start only deserialises it. dist/bin/berth-agent starts from the blob when this
// node made it, else from the plain bundle.
import { spawnSync } from "node:child_process";
import { chmodSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

await build({
  entryPoints: ["dist/bin/berth-agent.js", "dist/bin/berthctl.js", "dist/bin/berth-vm.js"],
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

// A snapshot is a script, not a module graph: one CommonJS file. The gRPC server is a CommonJS file of its
// own, which the snapshot loads on the first gRPC connection (src/grpc-server-from-file.ts stands in for
// it). Nothing may use import.meta there: the package root comes from the blob's path.
// The snapshot holds the script's source: without comments and blanks it is half the size, and it must be
// Latin-1 only, or V8 keeps all of it as two bytes a character (one "≥" in a comment cost 1.5 MB of RSS).
const script = {
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  define: { "import.meta.url": "undefined" },
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  logLevel: "warning",
};
const grpcFromFile = {
  name: "grpc-from-file",
  setup(b) {
    b.onResolve({ filter: /^\.\/protocol\/grpc\/server\.js$/ }, (args) => ({
      path: join(args.resolveDir, "grpc-server-from-file.js"),
    }));
  },
};
await build({
  ...script,
  entryPoints: ["dist/bin/berth-agent-snapshot.js"],
  outfile: "dist/bin/berth-agent-snapshot.cjs",
  plugins: [grpcFromFile],
});
await build({
  ...script,
  entryPoints: ["dist/src/protocol/grpc/server.js"],
  outfile: "dist/bin/berth-grpc.cjs",
});
const snapshotScript = readFileSync("dist/bin/berth-agent-snapshot.cjs", "utf8");
const wide = /[\u0100-\uffff]/.exec(snapshotScript);
if (wide) throw new Error(`the snapshot's script has a character beyond Latin-1 (${wide[0]})`);
if (/createConnectionInjector/.test(snapshotScript)) {
  throw new Error("grpc-js got into the snapshot's script");
}
rmSync("dist/bin/berth-agent-snapshot.js");
rmSync("dist/bin/berth-agent-snapshot.js.map");

// The node flags of the agent are those of its shebang; a blob only loads with the flags it was made with.
const shebang = readFileSync("dist/bin/berth-agent.js", "utf8").split("\n", 1)[0];
const flags = shebang.split(" node ")[1]?.trim().split(/\s+/) ?? [];
const made = spawnSync(
  process.execPath,
  [
    ...flags,
    "--snapshot-blob",
    "dist/bin/berth-agent.blob",
    "--build-snapshot",
    "dist/bin/berth-agent-snapshot.cjs",
  ],
  { encoding: "utf8" },
);
// Node 20 warns about every built-in module it has not yet verified in user snapshots (child_process,
// tty, worker_threads, module); the test suite runs the agent from this blob.
const said = made.stderr
  .split("\n")
  .filter(
    (line) =>
      line && !/not yet fully verified|may still work|Node\.js issue tracker|--trace-warnings/.test(line),
  );
if (made.status !== 0 || said.length > 0) {
  throw new Error(`building the agent's start-up snapshot failed (${made.status}):\n${made.stderr}`);
}

writeFileSync(
  "dist/bin/berth-agent",
  `#!/bin/sh
# berth-agent: starts the agent from its V8 start-up snapshot with the node that made it, unless that node
# has changed since (a snapshot loads only in the node that made it); else from the plain bundle. As PID 1
# (a guest's init) always from the plain bundle: V8 refuses a snapshot made on a CPU with other features
# (measured: a blob made here fails under QEMU's "-cpu max", exit 14), and PID 1 that exits panics the guest.
self=$0
[ -L "$self" ] && self=$(readlink -f "$self")
here=\${self%/*}
blob=$here/berth-agent.blob
node=${process.execPath}
# One malloc arena: glibc's default of one per thread (V8's and libuv's) kept ~6 MiB more of freed memory
# resident in an agent busy with execs (bench:soak).
export MALLOC_ARENA_MAX=\${MALLOC_ARENA_MAX:-1}
if [ "$$" -ne 1 ] && [ -r "$blob" ] && [ -x "$node" ] && [ "$blob" -nt "$node" ]; then
  exec "$node" ${flags.join(" ")} --snapshot-blob "$blob" -- "$@"
fi
exec node ${flags.join(" ")} "$here/berth-agent.js" "$@"
`,
);
chmodSync("dist/bin/berth-agent", 0o755);
