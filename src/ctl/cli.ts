import { AGENT_VERSION } from "../version.js";
import { resolveAgentAddress } from "./agent-address.js";
import { AgentClient } from "./agent-client.js";
import { connectAgent } from "./agent-connection.js";
import { type ParsedArgs, parseArgs } from "./cli-args.js";
import { COMMANDS, type Command } from "./commands.js";
import type { CtlContext } from "./ctl-context.js";
import { CtlError, describeError, UsageError } from "./ctl-error.js";
import type { CtlIo } from "./ctl-io.js";
import { commandUsage, GLOBAL_OPTIONS, usage } from "./usage.js";

const DEFAULT_TIMEOUT_SECONDS = 30;

/** berthctl with these arguments (after the program name); resolves with the exit status. */
export async function runCli(argv: readonly string[], env: NodeJS.ProcessEnv, io: CtlIo): Promise<number> {
  let client: AgentClient | undefined;
  let command: Command | undefined;
  try {
    const global = parseArgs(argv, GLOBAL_OPTIONS, 0);
    const [name, ...rest] = global.tail;
    if (name === undefined) {
      if (global.flags.has("version")) return print(io, `berthctl ${AGENT_VERSION}\n`);
      if (global.flags.has("help")) return print(io, usage(COMMANDS));
      io.stderr.write(usage(COMMANDS));
      return 1;
    }
    if (name === "help") {
      return print(io, rest[0] === undefined ? usage(COMMANDS) : commandUsage(findCommand(rest[0])));
    }
    command = findCommand(name);
    const args = parseCommandArgs(command, rest, global);
    if (args.flags.has("help")) return print(io, commandUsage(command));
    const ctx: CtlContext = {
      io,
      env,
      json: args.flags.has("json"),
      warn: (message) => io.stderr.write(`berthctl: warning: ${message}\n`),
      connect: async () => {
        client ??= await connectClient(args, env);
        return client;
      },
    };
    return await command.run(ctx, args);
  } catch (error) {
    io.stderr.write(`berthctl: ${describeError(error)}\n`);
    if (error instanceof UsageError && command?.usageExit !== undefined) return command.usageExit;
    return error instanceof CtlError ? error.exitCode : 1;
  } finally {
    client?.close();
  }
}

function print(io: CtlIo, text: string): number {
  io.stdout.write(text);
  return 0;
}

function findCommand(name: string): Command {
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)}; "berthctl --help" lists them`);
  return command;
}

async function connectClient(args: ParsedArgs, env: NodeJS.ProcessEnv): Promise<AgentClient> {
  const timeout = timeoutMs(args);
  const target = resolveAgentAddress(args.values.get("addr"), env);
  const connection = await connectAgent(target, { grpc: args.flags.has("grpc"), timeoutMs: timeout });
  return new AgentClient(connection, timeout);
}

/** The command's arguments, with the global options given before the command name merged in. */
function parseCommandArgs(command: Command, argv: readonly string[], global: ParsedArgs): ParsedArgs {
  let args: ParsedArgs;
  try {
    args = parseArgs(argv, [...GLOBAL_OPTIONS, ...command.options], command.tailAfter);
  } catch (error) {
    throw new UsageError(`${command.name}: ${describeError(error)} (see berthctl ${command.name} --help)`);
  }
  for (const flag of global.flags) args.flags.add(flag);
  for (const [key, value] of global.values) if (!args.values.has(key)) args.values.set(key, value);
  const [min, max] = command.positionals;
  const count = args.positionals.length;
  if (!args.flags.has("help") && (count < min || count > max)) {
    const extra =
      count > max ? `unexpected argument ${JSON.stringify(args.positionals[max])}` : "missing arguments";
    throw new UsageError(`${command.name}: ${extra}; usage: berthctl ${command.name} ${command.synopsis}`);
  }
  return args;
}

function timeoutMs(args: ParsedArgs): number | undefined {
  const text = args.values.get("timeout");
  const seconds = text === undefined ? DEFAULT_TIMEOUT_SECONDS : Number(text);
  if (!Number.isFinite(seconds) || seconds < 0)
    throw new UsageError(`--timeout ${text}: expected seconds, 0 for none`);
  return seconds === 0 ? undefined : seconds * 1000;
}
