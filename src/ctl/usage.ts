import { DEFAULT_CTL_ADDRESS } from "./agent-address.js";
import type { OptionSpec } from "./cli-args.js";
import type { Command } from "./commands.js";

type HelpOption = OptionSpec & { help: string; arg?: string };

export const GLOBAL_OPTIONS: HelpOption[] = [
  {
    name: "addr",
    kind: "value",
    arg: "ADDR",
    help: "the agent: unix:///path, unix://@name or vsock://CID:PORT",
  },
  { name: "grpc", kind: "flag", help: "speak gRPC instead of ttrpc" },
  {
    name: "timeout",
    kind: "value",
    arg: "SECONDS",
    help: "give up on an RPC after this long (default 30; 0: never)",
  },
  { name: "json", kind: "flag", help: "one line of JSON for scripts (health, version, call)" },
  { name: "help", short: "h", kind: "flag", help: 'this text; "berthctl COMMAND --help" for one command' },
  { name: "version", kind: "flag", help: "berthctl's version" },
];

const COLUMN = 24;

function row(left: string, right: string): string {
  const pad = `  ${left}`;
  return pad.length < COLUMN ? `${pad.padEnd(COLUMN)}${right}` : `${pad}\n${" ".repeat(COLUMN)}${right}`;
}

function optionRows(options: readonly HelpOption[]): string[] {
  return options.map((o) =>
    row(`${o.short ? `-${o.short}, ` : ""}--${o.name}${o.arg ? ` ${o.arg}` : ""}`, o.help),
  );
}

/** The whole usage text. */
export function usage(commands: readonly Command[]): string {
  return [
    "Usage: berthctl [OPTIONS] COMMAND [ARGS...]",
    "",
    "Drives berth, or any Kata Containers agent, over ttrpc or gRPC.",
    "",
    "Commands:",
    ...commands.map((c) => row(`${c.name} ${c.synopsis}`.trimEnd(), c.summary)),
    "",
    "Options:",
    ...optionRows(GLOBAL_OPTIONS),
    "",
    `The agent's address: --addr, else $BERTH_ADDR, else $KATA_AGENT_SERVER_ADDR, else ${DEFAULT_CTL_ADDRESS}`,
    "(the agent's default port, from inside its VM; vsock CID -1 also means this VM).",
    "",
    "Exit status: 0 on success, 1 on failure. run and exec exit with the process's status (128+N when",
    "signal N ended it), or 125 when berthctl failed before the process ran.",
    "",
    "There is no ps: the agent protocol has no RPC listing containers or processes, and a list kept by",
    "berthctl would miss containers made by others. Name containers with run --id to exec, kill or rm.",
    "",
  ].join("\n");
}

/** One command's usage text. */
export function commandUsage(command: Command): string {
  return [
    `Usage: berthctl ${command.name} ${command.synopsis}`.trimEnd(),
    "",
    command.summary,
    ...(command.details ? ["", ...command.details] : []),
    ...(command.options.length > 0 ? ["", "Options:", ...optionRows(command.options)] : []),
    "",
    'Options of every command (--addr, --grpc, --timeout, --json): see "berthctl --help".',
    "",
  ].join("\n");
}
