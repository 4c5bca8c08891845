import { createRequire } from "node:module";

/** berth's version, from package.json (reported as `agent_version`). */
export const AGENT_VERSION: string = (
  createRequire(import.meta.url)("../../package.json") as { version: string }
).version;

/** The agent API version Kata's agents report as `grpc_version`. */
export const API_VERSION = "0.0.1";
