import { parseArgs } from "node:util";
import { AgentError, Code } from "../errors.js";
import type { LogLevel } from "../log.js";
import type { WireProtocol } from "../protocol/dispatch.js";
import { DEFAULT_ADDRESS, type ListenAddress, parseListenAddress } from "../transport/address.js";
import { type AgentPaths, DEFAULT_PATHS } from "./agent-paths.js";

export interface AgentConfig {
  serverAddr: ListenAddress;
  logLevel: LogLevel;
  /** Serve only this protocol; by default each connection is served in the protocol it speaks. */
  protocol: WireProtocol | undefined;
  paths: AgentPaths;
  /** The OCI runtime binary. */
  runc: string;
}

export interface ConfigSources {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  /** The kernel command line (`/proc/cmdline`), read for `agent.*` options. */
  cmdline: string;
}

export type CommandLine = { action: "run"; config: AgentConfig } | { action: "help" } | { action: "version" };

/** Kata's `agent.log` takes logrus level names. */
const LOG_LEVELS: Readonly<Record<string, LogLevel>> = {
  panic: "fatal",
  fatal: "fatal",
  critical: "fatal",
  error: "error",
  warn: "warn",
  warning: "warn",
  info: "info",
  debug: "debug",
  trace: "trace",
};

const FLAGS = {
  "server-addr": { type: "string" },
  "log-level": { type: "string" },
  protocol: { type: "string" },
  "run-dir": { type: "string" },
  "sandbox-ns-dir": { type: "string" },
  "resolv-conf": { type: "string" },
  "runc-root": { type: "string" },
  runc: { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
} as const;

function bad(message: string): AgentError {
  return new AgentError(Code.INVALID_ARGUMENT, message);
}

function parseFlags(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: FLAGS, allowPositionals: false }).values;
  } catch (error) {
    throw bad((error as Error).message);
  }
}

function parseLogLevel(value: string, from: string): LogLevel {
  const level = LOG_LEVELS[value.toLowerCase()];
  if (!level) {
    const known = Object.keys(LOG_LEVELS).join(", ");
    throw bad(`${from}: unknown log level ${JSON.stringify(value)} (use ${known})`);
  }
  return level;
}

function parseProtocol(value: string): WireProtocol | undefined {
  if (value === "auto") return undefined;
  if (value === "ttrpc" || value === "grpc") return value;
  throw bad(`--protocol: expected auto, ttrpc or grpc, got ${JSON.stringify(value)}`);
}

function absolute(value: string | undefined, from: string): string | undefined {
  if (value === undefined) return undefined;
  if (!value.startsWith("/") || value.split("/").includes("..")) {
    throw bad(`${from}: expected an absolute path without "..", got ${JSON.stringify(value)}`);
  }
  return value.length > 1 ? value.replace(/\/+$/, "") : value;
}

/** The first value that is set, with the name of where it came from (for error messages). */
function firstSet(candidates: [string | undefined, string][]): { value: string; from: string } | undefined {
  for (const [value, from] of candidates) if (value !== undefined) return { value, from };
  return undefined;
}

/** `agent.key=value` options of a kernel command line, the last one winning. */
export function agentOptionsFromCmdline(cmdline: string): Map<string, string> {
  const options = new Map<string, string>();
  for (const word of cmdline.trim().split(/\s+/)) {
    if (!word.startsWith("agent.")) continue;
    const eq = word.indexOf("=");
    options.set(eq < 0 ? word : word.slice(0, eq), eq < 0 ? "" : word.slice(eq + 1));
  }
  return options;
}

/** Resolves the daemon's configuration: flags over environment over the kernel command line over defaults. */
export function parseCommandLine(sources: ConfigSources): CommandLine {
  const flags = parseFlags(sources.argv);
  if (flags.help) return { action: "help" };
  if (flags.version) return { action: "version" };
  const kernel = agentOptionsFromCmdline(sources.cmdline);
  const addr = firstSet([
    [flags["server-addr"], "--server-addr"],
    [sources.env.KATA_AGENT_SERVER_ADDR, "KATA_AGENT_SERVER_ADDR"],
    [kernel.get("agent.server_addr"), "agent.server_addr"],
  ]);
  const level = firstSet([
    [flags["log-level"], "--log-level"],
    [sources.env.KATA_AGENT_LOG_LEVEL, "KATA_AGENT_LOG_LEVEL"],
    [kernel.get("agent.log"), "agent.log"],
  ]);
  let serverAddr: ListenAddress;
  try {
    serverAddr = parseListenAddress(addr?.value ?? DEFAULT_ADDRESS);
  } catch (error) {
    throw bad(`${addr?.from ?? "default"}: ${(error as Error).message}`);
  }
  return {
    action: "run",
    config: {
      serverAddr,
      logLevel: level ? parseLogLevel(level.value, level.from) : "info",
      protocol: parseProtocol(flags.protocol ?? "auto"),
      paths: {
        runDir: absolute(flags["run-dir"], "--run-dir") ?? DEFAULT_PATHS.runDir,
        sandboxNsDir: absolute(flags["sandbox-ns-dir"], "--sandbox-ns-dir") ?? DEFAULT_PATHS.sandboxNsDir,
        resolvConf: absolute(flags["resolv-conf"], "--resolv-conf") ?? DEFAULT_PATHS.resolvConf,
        runcRoot: absolute(flags["runc-root"], "--runc-root") ?? DEFAULT_PATHS.runcRoot,
      },
      runc: flags.runc ?? "runc",
    },
  };
}

export const USAGE = `Usage: berth-agent [options]

The Kata Containers guest agent: serves grpc.AgentService and grpc.Health over ttrpc and gRPC.

Options:
  --server-addr ADDR   where to listen: vsock://CID:PORT, unix:///path or unix://@name
                       (default ${DEFAULT_ADDRESS}; also KATA_AGENT_SERVER_ADDR, agent.server_addr)
  --log-level LEVEL    trace, debug, info, warn, error or fatal
                       (default info; also KATA_AGENT_LOG_LEVEL, agent.log)
  --protocol P         auto (default: each connection in the protocol it speaks), ttrpc or grpc
  --run-dir DIR        bundles, shared and sandbox files (default ${DEFAULT_PATHS.runDir})
  --sandbox-ns-dir DIR the sandbox's UTS and IPC namespace files (default ${DEFAULT_PATHS.sandboxNsDir})
  --resolv-conf FILE   the guest's resolv.conf, covered by the sandbox's DNS (default ${DEFAULT_PATHS.resolvConf})
  --runc-root DIR      runc's state directory (default ${DEFAULT_PATHS.runcRoot})
  --runc PATH          the runc binary (default: runc from PATH)
  -V, --version        print the version
  -h, --help           print this help
`;
