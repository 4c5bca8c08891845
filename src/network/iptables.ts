import { stat } from "node:fs/promises";
import { delimiter, isAbsolute, join } from "node:path";
import { AgentError, Code } from "../errors.js";
import { CommandError, type RunOptions, type RunResult, runCommand } from "../sys/exec.js";
import { SerialQueue } from "../sys/serial-queue.js";
import { tablesOf, undoDocument } from "./iptables-document.js";

export type IpFamily = "ipv4" | "ipv6";

/** The longest one run of iptables-save or iptables-restore may take before it is killed. */
const IPTABLES_TIMEOUT_MS = 30_000;
/** What iptables-restore waits for the xtables lock (legacy backend) before it gives up. */
const LOCK_WAIT_SECONDS = "5";
/** Output kept of one run: a reply carries at most 4 MiB, and a dump cut short must never pass for whole. */
const MAX_OUTPUT = 4 << 20;
/** SetIPTables calls of one family running or waiting for the one before them. */
const MAX_PENDING_RESTORES = 16;
/** Where Kata's agent looks for the tools, before PATH. */
const SEARCH_DIRS = ["/usr/sbin", "/sbin"];

const TOOL_PREFIX: Readonly<Record<IpFamily, string>> = { ipv4: "iptables", ipv6: "ip6tables" };
const FAMILY_NAME: Readonly<Record<IpFamily, string>> = { ipv4: "IPv4", ipv6: "IPv6" };

export interface IpTablesOptions {
  /** The command runner (default: runCommand of sys/exec). */
  run?: (argv: readonly string[], options: RunOptions) => Promise<RunResult>;
  /** Directories searched for the tools before PATH (default: /usr/sbin, /sbin). */
  searchDirs?: readonly string[];
  /** The PATH searched after them (default: the agent's). */
  path?: string | undefined;
  /** Each run's time limit (default IPTABLES_TIMEOUT_MS). */
  timeoutMs?: number;
}

/**
 * Candidate paths of the tool `name`, in search order, each once: `searchDirs`, then the absolute
 * directories of `path` (an empty or relative entry would mean the agent's working directory).
 */
export function toolCandidates(
  name: string,
  searchDirs: readonly string[],
  path: string | undefined,
): string[] {
  const dirs = [...searchDirs, ...(path ?? "").split(delimiter).filter((d) => isAbsolute(d))];
  return [...new Set(dirs.map((d) => join(d, name)))];
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    const s = await stat(path);
    return s.isFile() && (s.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** Whether the tool ran at all: a command that did not start changed nothing. */
const ran = (error: unknown) =>
  error instanceof CommandError && (error.exitCode !== null || error.signal !== null);

/**
 * GetIPTables and SetIPTables: iptables-save and iptables-restore (ip6tables-* for IPv6) of the network
 * namespace the agent runs in, each run bounded in time and output. A restore is all or nothing: the
 * tool commits table by table, so when it fails after committing some, those are put back as they were.
 */
export class IpTables {
  readonly #run: NonNullable<IpTablesOptions["run"]>;
  readonly #searchDirs: readonly string[];
  readonly #path: string | undefined;
  readonly #timeoutMs: number;
  readonly #restores: Readonly<Record<IpFamily, SerialQueue>>;

  constructor(options: IpTablesOptions = {}) {
    this.#run = options.run ?? runCommand;
    this.#searchDirs = options.searchDirs ?? SEARCH_DIRS;
    this.#path = "path" in options ? options.path : process.env.PATH;
    this.#timeoutMs = options.timeoutMs ?? IPTABLES_TIMEOUT_MS;
    this.#restores = {
      ipv4: new SerialQueue("IPv4 iptables restores", MAX_PENDING_RESTORES),
      ipv6: new SerialQueue("IPv6 iptables restores", MAX_PENDING_RESTORES),
    };
  }

  /** The rules in force, as iptables-save prints them (nothing when no table exists). */
  async save(family: IpFamily, signal?: AbortSignal): Promise<Uint8Array> {
    const tool = await this.#tool(family, "save");
    const saved = await this.#exec([tool], { signal }).catch((error: unknown) => {
      throw AgentError.wrap(error, `cannot save the ${FAMILY_NAME[family]} rules`);
    });
    return new TextEncoder().encode(saved);
  }

  /**
   * Applies `document` with iptables-restore (which replaces each table it names) and answers what the
   * tool printed. A document the tool refuses is INVALID_ARGUMENT with its words, and leaves the rules as
   * they were; so does a run that times out or is aborted, with its own code.
   */
  restore(family: IpFamily, document: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    return this.#restores[family].run(async () => {
      const restore = await this.#tool(family, "restore");
      const tables = tablesOf(new TextDecoder().decode(document));
      const before = tables.length > 0 ? await this.#snapshot(family, signal) : "";
      try {
        const output = await this.#exec([restore, "--wait", LOCK_WAIT_SECONDS], { input: document, signal });
        return new TextEncoder().encode(output);
      } catch (error) {
        throw await this.#undo(family, error, restore, tables, before);
      }
    }, signal);
  }

  /** The tables as they are, with their counters, to put back what a failed restore committed. */
  async #snapshot(family: IpFamily, signal: AbortSignal | undefined): Promise<string> {
    const tool = await this.#tool(family, "save");
    return this.#exec([tool, "--counters"], { signal }).catch((error: unknown) => {
      throw AgentError.wrap(error, `cannot save the ${FAMILY_NAME[family]} rules before changing them`);
    });
  }

  /**
   * The error a failed restore answers, once every table it names is put back as it was. The tool commits
   * table by table: when it refuses a table, that one and those after it are untouched, so a document of
   * one table needs nothing put back; when it is killed, any of them may have been committed.
   */
  async #undo(
    family: IpFamily,
    error: unknown,
    restore: string,
    tables: readonly string[],
    before: string,
  ): Promise<AgentError> {
    if (!ran(error)) return AgentError.from(error);
    const refused = error instanceof CommandError && error.exitCode !== null;
    const failure = refused
      ? new AgentError(
          Code.INVALID_ARGUMENT,
          `the ${FAMILY_NAME[family]} rules were refused: ${error.message}`,
          { cause: error },
        )
      : AgentError.from(error);
    const touched = refused && tables.length < 2 ? [] : tables;
    if (touched.length === 0) return failure;
    try {
      // Never aborted: once the tool has run, the tables must be put back whoever is still waiting.
      await this.#exec([restore, "--counters", "--wait", LOCK_WAIT_SECONDS], {
        input: undoDocument(touched, before),
      });
    } catch (undoError) {
      return new AgentError(
        Code.INTERNAL,
        `${failure.message}; putting back the tables ${touched.join(", ")} failed too, so they may hold part of the new rules: ${AgentError.from(undoError).message}`,
        { cause: error },
      );
    }
    const putBack = `${failure.message} (tables ${touched.join(", ")} put back as they were)`;
    return new AgentError(failure.code, putBack, { cause: error });
  }

  async #tool(family: IpFamily, action: "save" | "restore"): Promise<string> {
    const name = `${TOOL_PREFIX[family]}-${action}`;
    for (const candidate of toolCandidates(name, this.#searchDirs, this.#path)) {
      if (await isExecutableFile(candidate)) return candidate;
    }
    throw new AgentError(
      Code.FAILED_PRECONDITION,
      `${name} is in none of ${this.#searchDirs.join(", ")} and PATH (${this.#path ?? ""}): the guest needs the iptables package`,
    );
  }

  /** stdout of `argv`, which must exit 0 within the time limit and print at most MAX_OUTPUT. */
  async #exec(
    argv: readonly string[],
    options: { input?: string | Uint8Array; signal?: AbortSignal | undefined },
  ): Promise<string> {
    const { stdout } = await this.#run(argv, {
      ...options,
      timeoutMs: this.#timeoutMs,
      maxOutputBytes: MAX_OUTPUT + 1,
      processGroup: true,
    });
    if (stdout.length > MAX_OUTPUT) {
      throw new AgentError(
        Code.RESOURCE_EXHAUSTED,
        `${argv.join(" ")} printed more than ${MAX_OUTPUT} bytes`,
      );
    }
    return stdout;
  }
}
