import { dirname, resolve } from "node:path";
import { startupSnapshot } from "node:v8";
import { agentProcess } from "../src/agent-main.js";
import { usePackageDir } from "../src/package-dir.js";

// The entry of the agent's V8 start-up snapshot (scripts/bundle.mjs builds it): every module is loaded and
// initialised when the snapshot is made; a start only deserialises them and runs this function. Anything
// that depends on the machine or the moment (argv, the environment, the native addon, the clock) is read
// here or later, never at module load.
startupSnapshot.setDeserializeMainFunction(() => {
  const blob = process.execArgv[process.execArgv.indexOf("--snapshot-blob") + 1];
  // The blob is <package>/dist/bin/berth-agent.blob.
  if (blob) usePackageDir(resolve(dirname(blob), "../.."));
  agentProcess(process.argv.slice(1));
});
