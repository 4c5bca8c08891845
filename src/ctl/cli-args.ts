import { UsageError } from "./ctl-error.js";

/** An option: a flag (--tty), a value (--addr ADDR) or a repeatable value (--env K=V ...). */
export interface OptionSpec {
  name: string;
  short?: string;
  kind: "flag" | "value" | "list";
}

export interface ParsedArgs {
  flags: Set<string>;
  values: Map<string, string>;
  lists: Map<string, string[]>;
  positionals: string[];
  /** The command to run in a container: everything from `--`, or from the first argument past the positionals. */
  tail: string[];
}

/**
 * Parses `argv` against `options`: `--name`, `--name=value`, `--name value`, `-x`, clusters such as
 * `-ti`, and a value glued to or following a short option (`-eK=V`, `-e K=V`). With `positionals` set,
 * options and positionals are read until that many positionals have been seen; the next non-option
 * argument, or everything after `--`, is the tail (a command line with options of its own). Without it,
 * everything after `--` is positional.
 */
export function parseArgs(
  argv: readonly string[],
  options: readonly OptionSpec[],
  positionals?: number,
): ParsedArgs {
  const out: ParsedArgs = {
    flags: new Set(),
    values: new Map(),
    lists: new Map(),
    positionals: [],
    tail: [],
  };
  const byName = new Map(options.map((o) => [o.name, o]));
  const byShort = new Map(options.filter((o) => o.short).map((o) => [o.short as string, o]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const next = () => {
      if (i + 1 >= argv.length) throw new UsageError(`option ${arg} needs a value`);
      return argv[++i] as string;
    };
    if (arg === "--") {
      if (positionals === undefined) out.positionals.push(...argv.slice(i + 1));
      else out.tail = argv.slice(i + 1);
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = arg.slice(2, eq === -1 ? undefined : eq);
      const option = byName.get(name);
      if (!option) throw new UsageError(`unknown option --${name}`);
      if (option.kind === "flag") {
        if (eq !== -1) throw new UsageError(`option --${name} takes no value`);
        out.flags.add(name);
      } else set(out, option, eq === -1 ? next() : arg.slice(eq + 1));
      continue;
    }
    if (arg.startsWith("-") && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const option = byShort.get(arg[j] as string);
        if (!option) throw new UsageError(`unknown option -${arg[j]}${arg.length > 2 ? ` in ${arg}` : ""}`);
        if (option.kind === "flag") {
          out.flags.add(option.name);
          continue;
        }
        set(out, option, j + 1 < arg.length ? arg.slice(j + 1) : next());
        break;
      }
      continue;
    }
    if (positionals !== undefined && out.positionals.length >= positionals) {
      out.tail = argv.slice(i);
      break;
    }
    out.positionals.push(arg);
  }
  return out;
}

function set(out: ParsedArgs, option: OptionSpec, value: string): void {
  if (option.kind === "list") out.lists.set(option.name, [...(out.lists.get(option.name) ?? []), value]);
  else out.values.set(option.name, value);
}
