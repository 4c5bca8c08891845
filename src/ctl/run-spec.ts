import { readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { create } from "@bufbuild/protobuf";
import {
  BoxSchema,
  type Process,
  ProcessSchema,
  RootSchema,
  type Spec,
  SpecSchema,
} from "../protocol/gen/oci_pb.js";
import { CtlError, UsageError } from "./ctl-error.js";
import { DEFAULT_PATH, defaultSpec } from "./default-spec.js";
import { parseExactJson } from "./exact-json.js";
import { JsonFields } from "./json-fields.js";
import { specFromOci } from "./spec-from-oci.js";

/** What run and exec set on the process, from the command line. */
export interface ProcessOptions {
  args: string[];
  /** --env entries: K=V, or K alone to pass berthctl's own value of K. */
  env: string[];
  cwd?: string | undefined;
  tty: boolean;
  /** The local terminal's size, for a tty process to start with. */
  size?: { rows: number; columns: number } | undefined;
}

export interface RunSpecOptions extends ProcessOptions {
  readonly: boolean;
}

/** A spec to create a container with, and what berthctl had to leave out of a bundle's config.json. */
export interface RunSpec {
  spec: Spec;
  warnings: string[];
}

/**
 * The spec for `run --rootfs DIR`: DIR's config.json when DIR is an OCI bundle (its root.path taken
 * relative to DIR), otherwise the default spec with DIR as the root filesystem; then the command-line
 * options on top, fitted for the guest ({@link fitForGuest}).
 */
export async function loadRunSpec(
  dir: string,
  options: RunSpecOptions,
  hostEnv: NodeJS.ProcessEnv,
): Promise<RunSpec> {
  const bundle = resolve(dir);
  const info = await stat(bundle).catch((error: NodeJS.ErrnoException) => {
    throw new CtlError(`--rootfs ${dir}: ${error.code === "ENOENT" ? "no such directory" : error.message}`);
  });
  if (!info.isDirectory()) throw new CtlError(`--rootfs ${dir}: not a directory`);
  const configPath = join(bundle, "config.json");
  const text = await readFile(configPath, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw new CtlError(`cannot read ${configPath}: ${error.message}`);
  });
  let spec: Spec;
  const warnings: string[] = [];
  if (text === undefined) {
    spec = create(SpecSchema, defaultSpec(bundle, options.readonly));
  } else {
    let fields: JsonFields;
    try {
      fields = JsonFields.document(parseExactJson(text), configPath);
    } catch (error) {
      throw new CtlError(`${configPath}: ${(error as Error).message}`);
    }
    spec = create(SpecSchema, specFromOci(fields));
    const unread = fields.unreadMembers();
    if (unread.length > 0)
      warnings.push(`${configPath}: the agent protocol has no field for ${unread.join(", ")}; ignored`);
    spec.Root = create(RootSchema, {
      Path: resolve(bundle, spec.Root?.Path || "rootfs"),
      Readonly: options.readonly || (spec.Root?.Readonly ?? false),
    });
  }
  spec.Process ??= create(ProcessSchema, { Cwd: "/", Env: [DEFAULT_PATH] });
  if (options.args.length === 0 && spec.Process.Args.length === 0) {
    throw new UsageError(
      text === undefined
        ? "run needs a command: berthctl run --rootfs DIR -- CMD [ARG...]"
        : `run needs a command: ${configPath} has no process.args`,
    );
  }
  applyProcessOptions(spec.Process, options, hostEnv);
  fitForGuest(spec);
  return { spec, warnings };
}

/** The process for `exec`: root in the container's root directory, with the options applied. */
export function execProcess(options: ProcessOptions, hostEnv: NodeJS.ProcessEnv): Process {
  const process = create(ProcessSchema, { User: { UID: 0, GID: 0 }, Env: [DEFAULT_PATH], Cwd: "/" });
  applyProcessOptions(process, options, hostEnv);
  return process;
}

/** Sets the command, environment, working directory and terminal on `process`. */
export function applyProcessOptions(
  process: Process,
  options: ProcessOptions,
  hostEnv: NodeJS.ProcessEnv,
): void {
  if (options.args.length > 0) process.Args = [...options.args];
  const env = options.tty && !hasVar(process.Env, "TERM") ? [...process.Env, "TERM=xterm"] : process.Env;
  process.Env = mergeEnv(env, options.env, hostEnv);
  if (options.cwd !== undefined) process.Cwd = options.cwd;
  process.Terminal = options.tty;
  process.ConsoleSize =
    options.tty && options.size
      ? create(BoxSchema, { Height: options.size.rows, Width: options.size.columns })
      : undefined;
}

/**
 * `base` with each override applied: K=V replaces K (or is appended); a bare K takes berthctl's own
 * value of K, and removes K when berthctl has none.
 */
export function mergeEnv(
  base: readonly string[],
  overrides: readonly string[],
  hostEnv: NodeJS.ProcessEnv,
): string[] {
  let env = [...base];
  for (const entry of overrides) {
    const eq = entry.indexOf("=");
    const name = eq === -1 ? entry : entry.slice(0, eq);
    if (name === "") throw new UsageError(`--env ${JSON.stringify(entry)}: expected NAME=VALUE or NAME`);
    const value = eq === -1 ? hostEnv[name] : entry.slice(eq + 1);
    env = env.filter((e) => !e.startsWith(`${name}=`) && e !== name);
    if (value !== undefined) env.push(`${name}=${value}`);
  }
  return env;
}

function hasVar(env: readonly string[], name: string): boolean {
  return env.some((e) => e.startsWith(`${name}=`));
}

/**
 * What the Kata runtime does to a spec before sending it to the agent: no PID namespace (the agent
 * chooses it), no network or cgroup namespace (containers share the VM's network), no hostname (the
 * sandbox owns the UTS namespace, which containers share).
 */
export function fitForGuest(spec: Spec): void {
  spec.Hostname = "";
  if (spec.Linux) {
    const dropped = new Set(["pid", "network", "cgroup"]);
    spec.Linux.Namespaces = spec.Linux.Namespaces.filter((ns) => !dropped.has(ns.Type));
  }
}
