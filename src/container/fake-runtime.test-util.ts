import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { constants } from "node:os";
import type { AgentPaths } from "../config/agent-paths.js";
import { noFaults } from "../config/faults.js";
import { DeviceRegistry } from "../device/device-registry.js";
import { AgentError, Code } from "../errors.js";
import type { Logger } from "../log.js";
import type { CallOptions, LaunchOptions, OciRuntime } from "../runtime/oci-runtime.js";
import type { CreateArgs, ExecArgs } from "../runtime/runc-args.js";
import { StorageRegistry } from "../storage/storage-registry.js";
import type { ExitStatus } from "../sys/reaper.js";
import type { ContainerDeps } from "./container-deps.js";

type Verb = "create" | "exec" | "start" | "kill" | "deleteLeftovers";

/** What a scripted verb does when it is called. */
export type Script =
  /** Waits until `release()`; an abort (or the call's timeout) ends the wait as runc's would end. */
  | { hold: true }
  /** Waits until `release()` and ignores the call's end, like a runc that has done its work already. */
  | { hold: true; deaf: true }
  /** Never answers: only the call's timeout or abort ends it. */
  | { hang: true }
  /** Answers at once with this error. */
  | { fail: AgentError }
  /** Answers at once and does nothing (a kill that kills nothing). */
  | { noop: true };

/** A scripted verb a test can wait for and release. */
export interface Gate {
  /** Settles when the verb is called. */
  readonly reached: Promise<void>;
  /** Lets a held verb answer; later calls of the verb are no longer scripted. */
  release(): void;
}

interface Scripted {
  readonly script: Script;
  readonly called: () => void;
  readonly released: Promise<void>;
}

/**
 * A scripted OCI runtime for unit tests of the container core. Each container's init, and each exec, is
 * a real child process (`sleep`, or the exec's own args), so pids, signals and exits are real; `reaper`
 * reports their exits. Every call is recorded ("create c1", "kill c1", …); a verb can be scripted to be
 * held until released, to hang, to fail or to do nothing. An exec's process starts before its script
 * runs: a held exec is one whose answer comes late.
 */
export class FakeRuntime implements OciRuntime {
  readonly calls: string[] = [];
  /** The process spec of each exec, as runc would read it. */
  readonly execSpecs: { args: string[]; env?: string[] }[] = [];
  readonly #scripts = new Map<string, Scripted>();
  readonly #children = new Map<string, ChildProcess[]>();
  readonly #exits = new Map<number, Promise<ExitStatus>>();

  /** What a container's process waits for its exit through (the agent's reaper). */
  readonly reaper = {
    wait: (pid: number): Promise<ExitStatus> =>
      this.#exits.get(pid) ?? Promise.reject(new Error(`pid ${pid} is not a fake runtime's`)),
  };

  /** Scripts `verb`, for every id or for `id` only. */
  script(verb: Verb, script: Script, id = "*"): Gate {
    const key = `${verb} ${id}`;
    let called!: () => void;
    let release!: () => void;
    const reached = new Promise<void>((resolve) => (called = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    this.#scripts.set(key, { script, called, released });
    return {
      reached,
      release: () => {
        if (this.#scripts.get(key)?.released === released) this.#scripts.delete(key);
        release();
      },
    };
  }

  /** The live child processes of container `id`. */
  live(id: string): ChildProcess[] {
    return (this.#children.get(id) ?? []).filter((c) => c.exitCode === null && c.signalCode === null);
  }

  #scripted(verb: Verb, id: string): Scripted | undefined {
    return this.#scripts.get(`${verb} ${id}`) ?? this.#scripts.get(`${verb} *`);
  }

  /**
   * Records the call and plays its script. Resolves false when the verb's effect is to be skipped; a
   * held or hanging verb ends as runc's would at the call's timeout (DEADLINE_EXCEEDED) or abort
   * (CANCELLED), unless it is deaf.
   */
  async #act(verb: Verb, id: string, options?: CallOptions): Promise<boolean> {
    this.calls.push(`${verb} ${id}`);
    const scripted = this.#scripted(verb, id);
    if (!scripted) return true;
    scripted.called();
    const { script } = scripted;
    if ("fail" in script) throw script.fail;
    if ("noop" in script) return false;
    const released = "hang" in script ? new Promise<void>(() => {}) : scripted.released;
    if ("deaf" in script) {
      await released;
      return true;
    }
    await new Promise<void>((resolve, reject) => {
      const signal = options?.signal;
      const timer =
        options?.timeoutMs === undefined
          ? undefined
          : setTimeout(
              () => end(new AgentError(Code.DEADLINE_EXCEEDED, `fake ${verb} timed out`)),
              options.timeoutMs,
            );
      const onAbort = () => end(new AgentError(Code.CANCELLED, `fake ${verb} aborted`));
      const end = (error?: AgentError) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        if (error) reject(error);
        else resolve();
      };
      if (signal?.aborted) onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      void released.then(() => end());
    });
    return true;
  }

  #spawn(id: string, argv: readonly string[], stdio: LaunchOptions["stdio"]): number {
    const [file = "sleep", ...args] = argv;
    const child = spawn(file, args, {
      stdio: [stdio?.stdin ?? "ignore", stdio?.stdout ?? "ignore", stdio?.stderr ?? "ignore"],
    });
    const pid = child.pid;
    if (pid === undefined) throw new Error(`cannot start ${file}`);
    this.#exits.set(
      pid,
      new Promise((resolve) =>
        child.once("exit", (exitCode, signal) =>
          resolve({ exitCode, signal: signal ? constants.signals[signal] : null }),
        ),
      ),
    );
    this.#children.set(id, [...(this.#children.get(id) ?? []), child]);
    return pid;
  }

  async create(id: string, args: CreateArgs, options?: LaunchOptions): Promise<void> {
    if (!(await this.#act("create", id, options))) return;
    writeFileSync(args.pidFile, String(this.#spawn(id, ["sleep", "1000"], options?.stdio)));
  }

  async exec(id: string, args: ExecArgs, options?: LaunchOptions): Promise<void> {
    if ("fail" in (this.#scripted("exec", id)?.script ?? {})) {
      await this.#act("exec", id, options);
      return;
    }
    const spec = JSON.parse(readFileSync(args.process, "utf8")) as { args: string[]; env?: string[] };
    this.execSpecs.push(spec);
    writeFileSync(args.pidFile, String(this.#spawn(id, spec.args, options?.stdio)));
    await this.#act("exec", id, options);
  }

  async start(id: string, options?: CallOptions): Promise<void> {
    await this.#act("start", id, options);
  }

  async kill(id: string, signal: number, options?: CallOptions & { all?: boolean }): Promise<void> {
    if (!(await this.#act("kill", id, options))) return;
    for (const child of this.live(id)) child.kill(signal);
  }

  async deleteLeftovers(id: string): Promise<string[]> {
    if (!(await this.#act("deleteLeftovers", id))) return [];
    for (const child of this.live(id)) child.kill("SIGKILL");
    return [];
  }

  async pause(id: string): Promise<void> {
    this.calls.push(`pause ${id}`);
  }

  async resume(id: string): Promise<void> {
    this.calls.push(`resume ${id}`);
  }

  async update(id: string): Promise<void> {
    this.calls.push(`update ${id}`);
  }

  async pids(id: string): Promise<number[]> {
    return this.live(id).flatMap((c) => (c.pid === undefined ? [] : [c.pid]));
  }

  /** Kills every child left (a test's cleanup). */
  killAll(): void {
    for (const id of this.#children.keys()) for (const child of this.live(id)) child.kill("SIGKILL");
  }
}

/** Every on-disk root of an agent, under a scratch directory (no resolv.conf: these tests set no DNS). */
export const scratchPaths = (dir: string): AgentPaths => ({
  runDir: `${dir}/run`,
  sandboxNsDir: `${dir}/ns`,
  resolvConf: "",
  runcRoot: `${dir}/runc`,
});

/**
 * What a container is given in unit tests: `runtime` (its reaper too), a storage registry and a device
 * registry of their own, no faults, no pivot, the kernel's pipe size, /sys; `more` sets the rest.
 */
export function fakeContainerDeps(
  runtime: FakeRuntime,
  paths: AgentPaths,
  log: Logger,
  more: Partial<ContainerDeps> = {},
): ContainerDeps {
  return {
    paths,
    runc: runtime,
    reaper: runtime.reaper,
    storages: new StorageRegistry({ paths, log }),
    log,
    faults: noFaults,
    noPivot: false,
    containerPipeSize: 0,
    sysfs: "/sys",
    devices: new DeviceRegistry({ log }),
    hotplugTimeoutMs: 3000,
    ...more,
  };
}
