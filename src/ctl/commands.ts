import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { type Storage, StorageSchema } from "../protocol/gen/agent_pb.js";
import type { OptionSpec, ParsedArgs } from "./cli-args.js";
import { completionScript } from "./completion.js";
import { kill, ps, rm } from "./container-commands.js";
import type { CtlContext } from "./ctl-context.js";
import { EXIT_NOT_RUN, UsageError } from "./ctl-error.js";
import { execInContainer } from "./exec-command.js";
import { call, health, list, version } from "./info-commands.js";
import { runContainer } from "./run-command.js";

export interface Command {
  name: string;
  /** The arguments after the name, as usage shows them. */
  synopsis: string;
  summary: string;
  details?: string[];
  options: (OptionSpec & { help: string; arg?: string })[];
  /** How many positionals come before a trailing command line (run: 0, exec: 1); none: no tail. */
  tailAfter?: number;
  /** Exit status for bad usage, when not 1 (run and exec: 125, the status of failing before the process ran). */
  usageExit?: number;
  /** Fewest and most positionals. */
  positionals: [number, number];
  run(ctx: CtlContext, args: ParsedArgs): Promise<number> | number;
}

const TTY = {
  name: "tty",
  short: "t",
  kind: "flag",
  help: "give the process a terminal (with -i the local one goes raw)",
} as const;
const INTERACTIVE = {
  name: "interactive",
  short: "i",
  kind: "flag",
  help: "pass stdin to the process",
} as const;
const ENV = {
  name: "env",
  short: "e",
  kind: "list",
  arg: "K=V",
  help: "set a variable (K alone: berthctl's value); repeatable",
} as const;
const CWD = {
  name: "cwd",
  short: "w",
  kind: "value",
  arg: "DIR",
  help: "working directory in the container",
} as const;

/** A --sandbox-storage value: one Storage, in protobuf JSON. */
function parseStorage(text: string): Storage {
  try {
    return fromJson(StorageSchema, JSON.parse(text) as JsonValue);
  } catch (error) {
    throw new UsageError(`--sandbox-storage: not a Storage in protobuf JSON: ${(error as Error).message}`);
  }
}

const processOptions = (args: ParsedArgs) => ({
  args: args.tail,
  env: args.lists.get("env") ?? [],
  cwd: args.values.get("cwd"),
  tty: args.flags.has("tty"),
  interactive: args.flags.has("interactive"),
});

export const COMMANDS: Command[] = [
  {
    name: "run",
    synopsis: "--rootfs DIR [OPTIONS] [--] CMD [ARG...]",
    summary: "run a command in a new container, streaming its stdio; exits with its status",
    details: [
      "Creates the sandbox if there is none, a container from DIR (a root filesystem, or an OCI bundle",
      "with a config.json; CMD then replaces its process.args and is optional), starts it, streams its",
      "stdin, stdout and stderr, waits for it and removes it. Ctrl-C is passed on (a third one kills it).",
    ],
    options: [
      {
        name: "rootfs",
        kind: "value",
        arg: "DIR",
        help: "root filesystem directory or OCI bundle (required)",
      },
      TTY,
      INTERACTIVE,
      { name: "id", kind: "value", arg: "ID", help: "container id (default: random)" },
      ENV,
      CWD,
      {
        name: "hostname",
        kind: "value",
        arg: "NAME",
        help: "the sandbox's hostname, if run creates it (default berth)",
      },
      {
        name: "sandbox-storage",
        kind: "list",
        arg: "JSON",
        help: "a Storage (protobuf JSON) for CreateSandbox, if run creates it: what berth-vm start printed",
      },
      {
        name: "read-only",
        kind: "flag",
        help: "mount the root filesystem read-only (else the container writes to DIR)",
      },
      { name: "keep", kind: "flag", help: "keep the container after it exits (berthctl rm removes it)" },
      { name: "rm", kind: "flag", help: "remove the container after it exits (the default)" },
    ],
    tailAfter: 0,
    positionals: [0, 0],
    usageExit: EXIT_NOT_RUN,
    run(ctx, args) {
      const rootfs = args.values.get("rootfs");
      if (rootfs === undefined) throw new UsageError("run needs --rootfs DIR");
      if (args.flags.has("rm") && args.flags.has("keep"))
        throw new UsageError("--rm and --keep contradict each other");
      return runContainer(ctx, {
        ...processOptions(args),
        rootfs,
        id: args.values.get("id"),
        hostname: args.values.get("hostname"),
        sandboxStorages: (args.lists.get("sandbox-storage") ?? []).map(parseStorage),
        readonly: args.flags.has("read-only"),
        keep: args.flags.has("keep"),
      });
    },
  },
  {
    name: "exec",
    synopsis: "ID [OPTIONS] [--] CMD [ARG...]",
    summary: "run a command in a running container; exits with its status",
    options: [
      TTY,
      INTERACTIVE,
      ENV,
      CWD,
      { name: "exec-id", kind: "value", arg: "ID", help: "exec id (default: random)" },
    ],
    tailAfter: 1,
    positionals: [1, 1],
    usageExit: EXIT_NOT_RUN,
    run(ctx, args) {
      if (args.tail.length === 0)
        throw new UsageError("exec needs a command: berthctl exec ID -- CMD [ARG...]");
      return execInContainer(ctx, {
        ...processOptions(args),
        containerId: args.positionals[0] as string,
        execId: args.values.get("exec-id"),
      });
    },
  },
  {
    name: "kill",
    synopsis: "ID [SIGNAL]",
    summary: "signal a container's process: TERM (default), KILL, INT, HUP, ... or a number",
    options: [{ name: "exec", kind: "value", arg: "EXEC_ID", help: "signal this exec'd process instead" }],
    positionals: [1, 2],
    run: (ctx, args) =>
      kill(ctx, args.positionals[0] as string, args.positionals[1], args.values.get("exec")),
  },
  {
    name: "ps",
    synopsis: "ID [-- PS_ARGS...]",
    summary: "the container's processes: ps lines (the agent runs ps PS_ARGS, default -ef); --json: pids",
    details: ["ListProcesses (Kata 1.x); needs ps in the guest for lines, not for --json."],
    options: [],
    tailAfter: 1,
    positionals: [1, 1],
    run: (ctx, args) => ps(ctx, args.positionals[0] as string, args.tail),
  },
  {
    name: "rm",
    synopsis: "ID",
    summary: "remove a container, killing it if it runs",
    options: [],
    positionals: [1, 1],
    run: (ctx, args) => rm(ctx, args.positionals[0] as string),
  },
  {
    name: "health",
    synopsis: "",
    summary: "Health.Check: prints SERVING (exit 0) or the status",
    options: [],
    positionals: [0, 0],
    run: health,
  },
  {
    name: "version",
    synopsis: "",
    summary: "berthctl's version and the agent's",
    options: [],
    positionals: [0, 0],
    run: version,
  },
  {
    name: "call",
    synopsis: "RPC [JSON|-|@FILE]",
    summary: "call any RPC with a protobuf-JSON request (default {}); prints the JSON reply",
    details: ['e.g. berthctl call CreateSandbox \'{"hostname":"pod"}\'; "-" reads the request from stdin.'],
    options: [],
    positionals: [1, 2],
    run: (ctx, args) => call(ctx, args.positionals[0] as string, args.positionals[1]),
  },
  {
    name: "list",
    synopsis: "",
    summary: "every RPC name, one per line",
    options: [],
    positionals: [0, 0],
    run: list,
  },
  {
    name: "completion",
    synopsis: "bash",
    summary: "print a bash completion script: source <(berthctl completion bash)",
    options: [],
    positionals: [1, 1],
    run(ctx, args) {
      if (args.positionals[0] !== "bash") throw new UsageError(`completion: only bash is supported`);
      ctx.io.stdout.write(completionScript(COMMANDS));
      return 0;
    },
  },
];
