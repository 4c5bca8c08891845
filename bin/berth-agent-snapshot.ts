import { dirname, resolve } from "node:path";
import { startupSnapshot } from "node:v8";
import { agentProcess } from "../src/agent-main.js";
import { usePackageDir } from "../src/package-dir.js";

// The entry of the agent's V8 start-up snapshot (scripts/bundle.mjs builds it): every module is loaded and
// initialised when the snapshot is made; a start only deserialises them and runs this function. Anything
// that depends on the machine or the moment (argv, the environment, the native addon, the clock) is read
// here or later, never at module load.
/** The blob node started from: `--snapshot-blob PATH` or `--snapshot-blob=PATH`. */
function snapshotBlob(execArgv: readonly string[]): string | undefined {
  for (const [i, arg] of execArgv.entries()) {
    if (arg === "--snapshot-blob") return execArgv[i + 1];
    if (arg.startsWith("--snapshot-blob=")) return arg.slice("--snapshot-blob=".length);
  }
  return undefined;
}

startupSnapshot.setDeserializeMainFunction(() => {
  const blob = snapshotBlob(process.execArgv);
  // The blob is <package>/dist/bin/berth-agent.blob.
  if (blob) usePackageDir(resolve(dirname(blob), "../.."));
  agentProcess(process.argv.slice(1));
});
