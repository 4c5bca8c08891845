import { KATA_ONLY_NAMES, OPTION_NAMES, specOf } from "./options.js";

const COLUMN = 28;
const WIDTH = 110;
const INDENT = " ".repeat(COLUMN);

/** A flag and its help, the help on a line of its own when the flag is too long to leave room. */
function row(left: string, help: string): string[] {
  return left.length < COLUMN ? [`${left.padEnd(COLUMN)}${help}`] : [left, `${INDENT}${help}`];
}

function flagLines(): string[] {
  const lines: string[] = [];
  for (const name of OPTION_NAMES) {
    const spec = specOf(name);
    const { flag } = spec;
    if (flag === undefined) continue;
    lines.push(
      ...row(
        `  ${flag.short === undefined ? "    " : `-${flag.short}, `}--${flag.name} ${flag.arg}`,
        flag.help,
      ),
    );
    const fallback = `default ${flag.defaultText ?? String(spec.type.show(spec.default))}`;
    const names = [spec.env, spec.cmdline?.[0], spec.file === undefined ? undefined : `${spec.file} in FILE`];
    const also = names.filter((n) => n !== undefined).join(", ");
    const together = `${INDENT}(${fallback}${also === "" ? "" : `; also ${also}`})`;
    lines.push(
      ...(together.length <= WIDTH ? [together] : [`${INDENT}(${fallback};`, `${INDENT} also ${also})`]),
    );
  }
  return lines;
}

function wrapped(words: readonly string[], indent: string): string[] {
  const lines: string[] = [];
  let line = indent;
  for (const word of words) {
    if (line.length + word.length + 1 > WIDTH && line !== indent) {
      lines.push(line.trimEnd());
      line = indent;
    }
    line += `${word} `;
  }
  if (line !== indent) lines.push(line.trimEnd());
  return lines;
}

/** The Kata-only options by their kernel command line names, the memory agent's tuning as one. */
function kataOnlyNames(): string[] {
  const names = KATA_ONLY_NAMES.map((name) => specOf(name).cmdline?.[0] ?? specOf(name).env ?? name);
  const tuning = names.filter((n) => n.startsWith("agent.mem_agent_") && n !== "agent.mem_agent_enable");
  return [...names.filter((n) => !tuning.includes(n)), ...(tuning.length > 0 ? ["agent.mem_agent_*"] : [])];
}

/** --help: generated from the option table, so every flag and name is in it. */
export const USAGE = [
  "Usage: berth-agent [options]",
  "",
  "The Kata Containers guest agent: serves grpc.AgentService and grpc.Health over ttrpc and gRPC.",
  "",
  "Options:",
  ...flagLines(),
  ...row("  -V, --version", "print the version"),
  ...row("  -h, --help", "print this help"),
  "",
  "Settings are taken from flags, then the environment, then the config file (--config or agent.config_file),",
  "then the kernel command line (/proc/cmdline), as Kata's agent names them. Kata options berth reads but",
  "does not act on yet (a warning when set):",
  ...wrapped(kataOnlyNames(), "  "),
  "",
].join("\n");
