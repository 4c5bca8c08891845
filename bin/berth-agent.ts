#!/usr/bin/env -S node --max-semi-space-size=1
import { agentProcess } from "../src/agent-main.js";

// The plain bundle of the agent; `dist/bin/berth-agent` (written by scripts/bundle.mjs) starts it from a V8
// start-up snapshot instead when one was built, with the same node flags as this shebang: a 1 MiB V8
// semi-space keeps the agent ~25 MiB smaller under a burst of calls (bench:rpc) than the default, and
// 13–23 MiB smaller than 2–4 MiB, which bought 5–15% more ttrpc calls a second at 64 in flight (noisy runs).
agentProcess(process.argv.slice(2));
