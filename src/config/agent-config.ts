import { readFileSync } from "node:fs";
import type { LogLevel } from "../log.js";
import type { ListenAddress } from "../transport/address.js";
import type { AgentPaths } from "./agent-paths.js";
import {
  BERTH_OPTIONS,
  KATA_ONLY_NAMES,
  type KataOnlyValues,
  OPTION_NAMES,
  type OptionName,
  type OptionValues,
  specOf,
} from "./options.js";
import { settingsFromCmdline } from "./parse-cmdline.js";
import { settingsFromEnv } from "./parse-env.js";
import { settingsFromFile } from "./parse-file.js";
import { parseFlags } from "./parse-flags.js";
import { badConfig, resolveOptions, type Setting, type SourceResult } from "./settings.js";
import type { JsonScalar } from "./value-types.js";

export { USAGE } from "./usage.js";

export type ShutdownAction = OptionValues["shutdownAction"];

/** The agent's whole configuration, resolved once at start; options.ts has each option's sources and default. */
export interface AgentConfig {
  serverAddr: ListenAddress;
  logLevel: LogLevel;
  /** Serve only this protocol; by default each connection is served in the protocol it speaks. */
  protocol: "ttrpc" | "grpc" | undefined;
  /** How long to wait for a hot-plugged device to appear. */
  hotplugTimeoutMs: number;
  /** Capacity of containers' stdout/stderr pipes in bytes (F_SETPIPE_SZ); 0 keeps the kernel's default. */
  containerPipeSize: number;
  /** What berth as PID 1 does once it is done. */
  shutdownAction: ShutdownAction;
  /** As PID 1, mount cgroup v2 only; Kata does so too when `cgroupNoV1` is `all`. */
  unifiedCgroupHierarchy: boolean;
  cgroupNoV1: string;
  /** The TOML file the configuration was read from, if any. */
  configFile: string | undefined;
  paths: AgentPaths;
  /** The OCI runtime binary. */
  runc: string;
  /** Kata's options berth reads and checks but does not act on yet. */
  unsupported: KataOnlyValues;
}

export interface ConfigSources {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  /** The kernel command line (`/proc/cmdline`). */
  cmdline: string;
  /** Reads the config file (default: from disk). */
  readFile?: (path: string) => string;
}

export type CommandLine =
  | { action: "run"; config: AgentConfig; warnings: string[] }
  | { action: "help" }
  | { action: "version" };

const BERTH_NAMES = Object.keys(BERTH_OPTIONS) as (keyof typeof BERTH_OPTIONS)[];

function pick<K extends OptionName>(values: OptionValues, names: readonly K[]): Pick<OptionValues, K> {
  return Object.fromEntries(names.map((name) => [name, values[name]])) as Pick<OptionValues, K>;
}

function configFrom(values: OptionValues): AgentConfig {
  const { runDir, sandboxNsDir, resolvConf, runcRoot, protocol, ...berth } = pick(values, BERTH_NAMES);
  return {
    ...berth,
    protocol: protocol === "auto" ? undefined : protocol,
    paths: { runDir, sandboxNsDir, resolvConf, runcRoot },
    unsupported: pick(values, KATA_ONLY_NAMES),
  };
}

function valuesFrom(config: AgentConfig): OptionValues {
  const { paths, unsupported, protocol, ...berth } = config;
  return { ...berth, ...paths, ...unsupported, protocol: protocol ?? "auto" };
}

function fileSettings(configFile: Setting | undefined, readFile: (path: string) => string): SourceResult {
  if (configFile === undefined) return { settings: new Map(), warnings: [] };
  const path = String(configFile.value);
  let contents: string;
  try {
    contents = readFile(path);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw badConfig(`${configFile.from}: cannot read config file ${path}: ${why}`, error);
  }
  return settingsFromFile(path, contents);
}

/**
 * Resolves the daemon's configuration: flags over environment over the config file over the kernel command
 * line over defaults. Every source is checked in full: a bad value anywhere is an error that names where it
 * was; unknown `agent.*` options, unknown config file keys and Kata options berth does not act on are warnings.
 */
export function parseCommandLine(sources: ConfigSources): CommandLine {
  const flags = parseFlags(sources.argv);
  if (flags.action !== "run") return flags;
  const kernel = settingsFromCmdline(sources.cmdline);
  const env = settingsFromEnv(sources.env);
  const configFile = flags.settings.get("configFile") ?? kernel.settings.get("configFile");
  const file = fileSettings(configFile, sources.readFile ?? ((path) => readFileSync(path, "utf8")));
  const { values, origins } = resolveOptions([flags.settings, env, file.settings, kernel.settings]);
  const unsupported = KATA_ONLY_NAMES.flatMap((name) => {
    const origin = origins.get(name);
    const set = origin !== undefined && values[name] !== specOf(name).default;
    return set ? [`${origin}: not supported by berth yet (ignored)`] : [];
  });
  return {
    action: "run",
    config: configFrom(values),
    warnings: [...flags.warnings, ...kernel.warnings, ...file.warnings, ...unsupported],
  };
}

/** The configuration as a flat JSON-safe object with Kata's names, for the one `announce` log line. */
export function describeConfig(config: AgentConfig): Record<string, JsonScalar> {
  const values = valuesFrom(config);
  const described: Record<string, JsonScalar> = {};
  for (const name of OPTION_NAMES) {
    const spec = specOf(name);
    const value = values[name];
    const key = spec.file ?? spec.cmdline?.[0]?.replace(/^agent\./, "") ?? name;
    if (value !== undefined) described[key] = spec.type.show(value);
  }
  return described;
}
