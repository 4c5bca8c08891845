import pkg from "../package.json" with { type: "json" };

/** berth's version, from package.json (reported as `agent_version`). */
export const AGENT_VERSION: string = pkg.version;

/** The agent API version Kata's agents report as `grpc_version`. */
export const API_VERSION = "0.0.1";
