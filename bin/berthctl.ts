#!/usr/bin/env node
import { runCli } from "../src/ctl/cli.js";

runCli(process.argv.slice(2), process.env, process).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`berthctl: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
