import type { Logger } from "../log.js";
import type { ProcessStdio } from "../process/stdio.js";
import type { Runc } from "../runtime/runc.js";
import type { CleanupStack } from "../sys/cleanup-stack.js";
import { type ExitStatus, statusCode } from "../sys/reaper.js";
import { type ContainerState, checkMove } from "./container-state.js";

/** The container's first process, started by runc create. */
export interface InitProcess {
  readonly pid: number;
  /** The exec id the host gave at CreateContainer; the container id and "" name it too. */
  readonly execId: string;
  readonly stdio: ProcessStdio;
  readonly exited: Promise<ExitStatus>;
}

const KILL = 9;

/**
 * A container with explicit states (created → running ⇄ paused → stopped). State changes run one at a
 * time per container; waits hold no lock.
 */
export class Container {
  readonly id: string;
  readonly bundle: string;
  readonly init: InitProcess;
  #state: ContainerState = "created";
  #exit: ExitStatus | undefined;
  readonly #undo: CleanupStack;
  readonly #runc: Runc;
  readonly #log: Logger;
  #queue: Promise<unknown> = Promise.resolve();
  #removal: Promise<void> | undefined;

  constructor(d: {
    id: string;
    bundle: string;
    init: InitProcess;
    undo: CleanupStack;
    runc: Runc;
    log: Logger;
  }) {
    this.id = d.id;
    this.bundle = d.bundle;
    this.init = d.init;
    this.#undo = d.undo;
    this.#runc = d.runc;
    this.#log = d.log;
    void d.init.exited.then((exit) => {
      this.#exit = exit;
      this.#state = "stopped";
      this.#log.info(
        { container: this.id, pid: d.init.pid, status: statusCode(exit) },
        "container init exited",
      );
    });
  }

  get state(): ContainerState {
    return this.#state;
  }

  get exitStatus(): ExitStatus | undefined {
    return this.#exit;
  }

  /** Whether `execId` names the init process ("" and the container id always do). */
  isInit(execId: string): boolean {
    return execId === "" || execId === this.id || execId === this.init.execId;
  }

  /** Runs a state change after the ones before it. */
  #serial<T>(change: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(change);
    this.#queue = next.catch(() => {});
    return next;
  }

  start(): Promise<void> {
    return this.#serial(async () => {
      checkMove(this.id, this.#state, "running");
      await this.#runc.start(this.id);
      if (this.#state === "created") this.#state = "running";
    });
  }

  /**
   * Kills every process of the container and waits for its init to be reaped, then undoes what creation
   * built, newest first: the runc container (runc delete runs the poststop hooks), stdio, the rootfs and
   * bundle, storage references. Called again while it runs, it returns the same work.
   */
  remove(): Promise<void> {
    this.#removal ??= this.#serial(async () => {
      if (this.#state !== "stopped") {
        await this.#runc.kill(this.id, KILL, { all: true }).catch((error: unknown) => {
          this.#log.debug({ container: this.id, err: error }, "kill before delete");
        });
        await this.init.exited;
      }
      await this.#undo.unwind();
    });
    return this.#removal;
  }
}
