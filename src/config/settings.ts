import { AgentError, Code } from "../errors.js";
import { OPTION_NAMES, type OptionName, type OptionValues, specOf } from "./options.js";
import { InvalidValue } from "./value-types.js";

/** A value one source gave an option, and where it came from (`--log-level`, `agent.log`, `FILE: log_level`). */
export interface Setting {
  readonly value: unknown;
  readonly from: string;
}

/** What one source says, option by option. */
export type Settings = ReadonlyMap<OptionName, Setting>;

/** What parsing a source found besides values: things ignored, which the agent logs but does not fail on. */
export interface SourceResult {
  settings: Settings;
  warnings: string[];
}

export function badConfig(message: string, cause?: unknown): AgentError {
  return new AgentError(Code.INVALID_ARGUMENT, message, cause === undefined ? undefined : { cause });
}

/** Reads one value with its option's type; a value that does not fit is an error naming its source. */
export function settingFrom(from: string, read: () => unknown): Setting {
  try {
    return { value: read(), from };
  } catch (error) {
    if (error instanceof InvalidValue) throw badConfig(`${from}: ${error.message}`);
    throw error;
  }
}

export interface ResolvedOptions {
  values: OptionValues;
  /** Where each value that is not a default came from. */
  origins: ReadonlyMap<OptionName, string>;
}

/** Every option's value from the first source (highest precedence first) that sets it, else its default. */
export function resolveOptions(sources: readonly Settings[]): ResolvedOptions {
  const values: Record<string, unknown> = {};
  const origins = new Map<OptionName, string>();
  for (const name of OPTION_NAMES) {
    const setting = sources.map((source) => source.get(name)).find((s) => s !== undefined);
    values[name] = setting === undefined ? specOf(name).default : setting.value;
    if (setting !== undefined) origins.set(name, setting.from);
  }
  // Each value was made by its own option's type (settingFrom) or is its default.
  return { values: values as OptionValues, origins };
}
