import { OPTION_NAMES, type OptionName, specOf } from "./options.js";
import { type Setting, settingFrom } from "./settings.js";

/** Options set by environment variables (Kata's `KATA_AGENT_*`, berth's `BERTH_*`). */
export function settingsFromEnv(env: Readonly<Record<string, string | undefined>>): Map<OptionName, Setting> {
  const settings = new Map<OptionName, Setting>();
  for (const name of OPTION_NAMES) {
    const { env: variable, type } = specOf(name);
    const value = variable === undefined ? undefined : env[variable];
    // An empty variable is how shells and unit files unset one; Kata's agent reads `KATA_AGENT_TRACING=` as unset too.
    if (variable === undefined || value === undefined || value === "") continue;
    settings.set(
      name,
      settingFrom(variable, () => type.fromText(value)),
    );
  }
  return settings;
}
