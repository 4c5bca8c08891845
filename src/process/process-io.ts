import { AgentError, Code } from "../errors.js";
import { native } from "../sys/native.js";
import { InputWriter } from "./input-writer.js";
import { OutputReader } from "./output-reader.js";

/** A started process's stdio as berth serves it: readers for stdout and stderr (or the pty), a stdin writer. */
export class ProcessIo {
  readonly terminal: boolean;
  readonly stdout: OutputReader | undefined;
  readonly stderr: OutputReader | undefined;
  readonly stdin: InputWriter | undefined;
  readonly #pty: number | undefined;

  constructor(fds: {
    stdin?: number | undefined;
    stdout?: number | undefined;
    stderr?: number | undefined;
    pty?: number | undefined;
  }) {
    if (fds.pty !== undefined) {
      this.terminal = true;
      this.#pty = fds.pty;
      this.stdin = new InputWriter(native().dup(fds.pty));
      const reader = new OutputReader(fds.pty, true);
      this.stdout = reader;
      this.stderr = reader;
    } else {
      this.terminal = false;
      this.stdout = fds.stdout === undefined ? undefined : new OutputReader(fds.stdout, false);
      this.stderr = fds.stderr === undefined ? undefined : new OutputReader(fds.stderr, false);
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
