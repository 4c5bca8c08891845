import { AgentError, Code } from "../errors.js";
import { ByteBudget } from "../sys/byte-budget.js";
import { native } from "../sys/native.js";
import { InputWriter } from "./input-writer.js";
import { OutputReader } from "./output-reader.js";

/**
 * What output a process's reads may hold between the pipe and the server when no shared budget is given:
 * a few of the largest replies (1 MiB).
 */
const OWN_REPLY_BUDGET = 4 << 20;

export interface ProcessIoOptions {
  /**
   * Charged for output taken from the kernel until its reply is handed on; shared by every process so
   * that replies nobody collects cannot pile up. Without one, the process gets a budget of its own.
   */
  replyBudget?: ByteBudget | undefined;
}

/**
 * A started process's stdio as berth serves it: readers for stdout and stderr (or the pty), a stdin writer.
 * Every fd is non-blocking (the caller made them so); the ProcessIo owns them.
 */
export class ProcessIo {
  readonly terminal: boolean;
  readonly stdout: OutputReader | undefined;
  readonly stderr: OutputReader | undefined;
  readonly stdin: InputWriter | undefined;
  readonly #pty: number | undefined;

  constructor(
    fds: {
      stdin?: number | undefined;
      stdout?: number | undefined;
      stderr?: number | undefined;
      pty?: number | undefined;
    },
    options: ProcessIoOptions = {},
  ) {
    const budget = options.replyBudget ?? new ByteBudget(OWN_REPLY_BUDGET);
    if (fds.pty !== undefined) {
      this.terminal = true;
      this.#pty = fds.pty;
      this.stdin = new InputWriter(native().dup(fds.pty));
      const reader = new OutputReader(fds.pty, budget);
      this.stdout = reader;
      this.stderr = reader;
    } else {
      this.terminal = false;
      this.stdout = fds.stdout === undefined ? undefined : new OutputReader(fds.stdout, budget);
      this.stderr = fds.stderr === undefined ? undefined : new OutputReader(fds.stderr, budget);
      this.stdin = fds.stdin === undefined ? undefined : new InputWriter(fds.stdin);
    }
  }

  processExited(): void {
    this.stdout?.processExited();
    this.stderr?.processExited();
  }

  resize(rows: number, columns: number): void {
    if (this.#pty === undefined) {
      throw new AgentError(Code.FAILED_PRECONDITION, "the process has no terminal: it cannot be resized");
    }
    native().setWindowSize(this.#pty, rows, columns);
  }

  close(): void {
    this.stdin?.destroy();
    this.stdout?.close();
    this.stderr?.close();
  }
}
