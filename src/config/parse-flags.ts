import { type ParseArgsConfig, parseArgs } from "node:util";
import { OPTION_NAMES, type OptionName, specOf } from "./options.js";
import { badConfig, type Setting, type SourceResult, settingFrom } from "./settings.js";

type FlagOptions = NonNullable<ParseArgsConfig["options"]>;

const FLAG_OPTIONS: FlagOptions = {
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
};
for (const name of OPTION_NAMES) {
  const flag = specOf(name).flag;
  if (flag !== undefined) {
    FLAG_OPTIONS[flag.name] =
      flag.short === undefined ? { type: "string" } : { type: "string", short: flag.short };
  }
}

export type FlagsResult = { action: "help" } | { action: "version" } | ({ action: "run" } & SourceResult);

/** Command-line flags: `--help` and `--version` first, then the options that have a flag. */
export function parseFlags(argv: readonly string[]): FlagsResult {
  let parsed: ReturnType<typeof parseArgs<{ options: FlagOptions; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: FLAG_OPTIONS, allowPositionals: true });
  } catch (error) {
    // Node's messages go on with advice about `--`; the first sentence says what is wrong.
    const message = error instanceof Error ? error.message : String(error);
    throw badConfig(message.split(". ")[0] ?? message, error);
  }
  const { values, positionals } = parsed;
  if (values.help === true) return { action: "help" };
  if (values.version === true) return { action: "version" };
  const settings = new Map<OptionName, Setting>();
  for (const name of OPTION_NAMES) {
    const flag = specOf(name).flag;
    const value = flag === undefined ? undefined : values[flag.name];
    if (flag === undefined || typeof value !== "string") continue;
    const { type } = specOf(name);
    settings.set(
      name,
      settingFrom(`--${flag.name}`, () => type.fromText(value)),
    );
  }
  // As PID 1, berth gets the kernel's leftover parameters as arguments; failing on them would panic the VM.
  const warnings = positionals.length === 0 ? [] : [`arguments ${JSON.stringify(positionals)} (ignored)`];
  return { action: "run", settings, warnings };
}
