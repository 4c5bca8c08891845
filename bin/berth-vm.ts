#!/usr/bin/env node
import { runVmCli } from "../src/vm/cli.js";

runVmCli(process.argv.slice(2), process.env, {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`berth-vm: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
