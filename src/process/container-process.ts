import { constants } from "node:os";
import { AgentError, Code } from "../errors.js";
import type { ExitStatus } from "../sys/reaper.js";
import { handlesSignal, waitWhileRuncInit } from "../sys/signals.js";
import type { ProcessIo } from "./process-io.js";

const { SIGKILL, SIGTERM } = constants.signals;

/** A container's init or exec process: its host pid, stdio and exit. */
export class ContainerProcess {
  readonly execId: string;
  readonly pid: number;
  readonly io: ProcessIo;
  readonly exited: Promise<ExitStatus>;
  /** The container's first process: PID 1 of its namespace unless the sandbox shares one. */
  readonly init: boolean;
  #exit: ExitStatus | undefined;
  #released = false;
  /** Until a start runs it, a container's init is runc's own, waiting on its exec FIFO. */
  #programStarted: boolean;

  constructor(d: { execId: string; pid: number; io: ProcessIo; exited: Promise<ExitStatus>; init: boolean }) {
    this.execId = d.execId;
    this.pid = d.pid;
    this.io = d.io;
    this.init = d.init;
    this.#programStarted = !d.init;
    this.exited = d.exited.then((exit) => {
      this.#exit = exit;
      this.io.processExited();
      return exit;
    });
  }

  get exit(): ExitStatus | undefined {
    return this.#exit;
  }

  get released(): boolean {
    return this.#released;
  }

  /**
   * Sends `signal`, and returns the signal sent: SIGTERM to an init that neither handles, blocks nor
   * ignores it becomes SIGKILL (PID 1 of a namespace ignores unhandled signals, so SIGTERM would do
   * nothing). Its masks are read once its program has replaced runc's init: a container started a moment
   * ago may still be in that exec, past its point of no return, showing runc's masks. A process that has
   * already exited is not an error: nothing is sent (undefined).
   */
  async signal(signal: number): Promise<number | undefined> {
    if (this.#exit) return undefined;
    let sent = signal;
    if (signal === SIGTERM && this.init) {
      if (this.#programStarted) await waitWhileRuncInit(this.pid);
      if (!(await handlesSignal(this.pid, SIGTERM))) sent = SIGKILL;
    }
    try {
      process.kill(this.pid, sent);
      return sent;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ESRCH") return undefined;
      if (code === "EINVAL") throw new AgentError(Code.INVALID_ARGUMENT, `signal ${signal} is not valid`);
      throw AgentError.from(error);
    }
  }

  /** A start has run the container's program in this init, replacing runc's. */
  programStarted(): void {
    this.#programStarted = true;
  }

  /** Closes its stdio; the process is forgotten by its container. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.io.close();
  }
}
