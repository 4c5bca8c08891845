import { parse, TomlError } from "smol-toml";
import { OPTION_NAMES, type OptionName, specOf } from "./options.js";
import { badConfig, type Setting, type SourceResult, settingFrom } from "./settings.js";

const MAX_CONFIG_FILE = 1024 * 1024;

const BY_FILE_KEY = new Map<string, OptionName>(
  OPTION_NAMES.flatMap((name) => {
    const key = specOf(name).file;
    return key === undefined ? [] : [[key, name] as const];
  }),
);

/** Keys Kata's agent once read and now ignores, with why. */
const RETIRED_KEYS: Readonly<Record<string, string>> = {
  endpoints: "Kata replaced the [endpoints] allow-list by agent policy",
};

/** Options in a TOML config file, keyed by Kata's names (`server_addr`, `hotplug_timeout`, …). */
export function settingsFromFile(path: string, contents: string): SourceResult {
  if (contents.length > MAX_CONFIG_FILE)
    throw badConfig(`${path}: longer than ${MAX_CONFIG_FILE} characters`);
  let table: ReturnType<typeof parse>;
  try {
    table = parse(contents, { integersAsBigInt: false });
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    const why = error.message.split("\n")[0]?.replace(/^Invalid TOML document: /, "");
    throw badConfig(`${path}: invalid TOML at line ${error.line}, column ${error.column}: ${why}`, error);
  }
  const settings = new Map<OptionName, Setting>();
  const warnings: string[] = [];
  for (const [key, value] of Object.entries(table)) {
    const name = BY_FILE_KEY.get(key);
    if (name === undefined) {
      const why = Object.hasOwn(RETIRED_KEYS, key) ? RETIRED_KEYS[key] : "unknown key";
      warnings.push(`${path}: ${key}: ${why} (ignored)`);
      continue;
    }
    const { type } = specOf(name);
    settings.set(
      name,
      settingFrom(`${path}: ${key}`, () => type.fromToml(value)),
    );
  }
  return { settings, warnings };
}
