import { OPTION_NAMES, type OptionName, specOf } from "./options.js";
import { badConfig, type Setting, type SourceResult, settingFrom } from "./settings.js";

/** Far above any kernel's COMMAND_LINE_SIZE (2 KiB on x86 up to a few KiB elsewhere). */
const MAX_CMDLINE = 64 * 1024;

const BY_CMDLINE_NAME = new Map<string, OptionName>(
  OPTION_NAMES.flatMap((name) => (specOf(name).cmdline ?? []).map((param) => [param, name] as const)),
);

/**
 * Splits a kernel command line as the kernel does: at blanks outside double quotes, the quotes dropped.
 * Everything after `--` is init's arguments, not parameters.
 */
export function kernelParameters(cmdline: string): string[] {
  if (cmdline.length > MAX_CMDLINE)
    throw badConfig(`kernel command line: longer than ${MAX_CMDLINE} characters`);
  const params: string[] = [];
  let current = "";
  let quoted = false;
  let inParam = false;
  for (const char of `${cmdline} `) {
    if (char === '"') {
      quoted = !quoted;
      inParam = true;
    } else if (!quoted && /\s/.test(char)) {
      if (inParam) {
        if (current === "--") return params;
        params.push(current);
      }
      current = "";
      inParam = false;
    } else {
      current += char;
      inParam = true;
    }
  }
  return params;
}

/** Options on the kernel command line: Kata's `agent.*` ones and the cgroup ones PID 1 needs. */
export function settingsFromCmdline(cmdline: string): SourceResult {
  const settings = new Map<OptionName, Setting>();
  const warnings: string[] = [];
  for (const param of kernelParameters(cmdline)) {
    const eq = param.indexOf("=");
    const key = eq < 0 ? param : param.slice(0, eq);
    const name = BY_CMDLINE_NAME.get(key);
    if (name === undefined) {
      if (key.startsWith("agent.")) warnings.push(`kernel command line: unknown option ${key} (ignored)`);
      continue;
    }
    const { type } = specOf(name);
    if (eq >= 0) {
      const text = param.slice(eq + 1);
      settings.set(
        name,
        settingFrom(key, () => type.fromText(text)),
      );
    } else if (type.bare !== undefined) {
      settings.set(name, { value: type.bare, from: key });
    } else {
      throw badConfig(`${key}: expected ${type.expected}, got no value`);
    }
  }
  return { settings, warnings };
}
