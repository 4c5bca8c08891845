import { AgentError } from "../errors.js";
import { native } from "../sys/native.js";
import { closeQuietly } from "./close-quietly.js";
import { ProcessIo, type ProcessIoOptions } from "./process-io.js";

/**
 * A plain process's stdio as berth holds it: the host-facing ends of three pipes (pipes, not sockets:
 * workloads open /dev/stdout), non-blocking, and the process's ends, left blocking, as programs expect.
 */
export class ProcessStdio {
  stdin: number | undefined;
  stdout: number | undefined;
  stderr: number | undefined;
  /** The process's ends, handed to runc, which passes them to the process; closed once it has them. */
  #child: { stdin: number; stdout: number; stderr: number } | undefined;

  private constructor() {}

  /**
   * Three pipes; stdout and stderr get `outputPipeSize` bytes of capacity when it is set (Kata's
   * agent.container_pipe_size; 0 keeps the kernel's 64 KiB).
   */
  static pipes(outputPipeSize = 0): ProcessStdio {
    const io = new ProcessStdio();
    const opened: number[] = [];
    try {
      const [inRead, inWrite] = native().pipe();
      opened.push(inRead, inWrite);
      const [outRead, outWrite] = native().pipe();
      opened.push(outRead, outWrite);
      const [errRead, errWrite] = native().pipe();
      opened.push(errRead, errWrite);
      if (outputPipeSize > 0) {
        native().setPipeSize(outRead, outputPipeSize);
        native().setPipeSize(errRead, outputPipeSize);
      }
      for (const fd of [inWrite, outRead, errRead]) native().setNonBlocking(fd);
      io.stdin = inWrite;
      io.stdout = outRead;
      io.stderr = errRead;
      io.#child = { stdin: inRead, stdout: outWrite, stderr: errWrite };
    } catch (error) {
      for (const fd of opened) closeQuietly(fd);
      throw AgentError.from(error);
    }
    return io;
  }

  /** The fds to give runc as stdin, stdout and stderr. */
  get childFds(): { stdin: number; stdout: number; stderr: number } | undefined {
    return this.#child;
  }

  /** Closes berth's copies of the process's ends, so EOF comes when the process closes its own. */
  closeChildEnds(): void {
    const child = this.#child;
    this.#child = undefined;
    if (child) for (const fd of [child.stdin, child.stdout, child.stderr]) closeQuietly(fd);
  }

  /** Hands the host's ends to a ProcessIo, which owns them from then on. */
  open(options: ProcessIoOptions): ProcessIo {
    const io = new ProcessIo({ stdin: this.stdin, stdout: this.stdout, stderr: this.stderr }, options);
    this.stdin = this.stdout = this.stderr = undefined;
    return io;
  }

  close(): void {
    this.closeChildEnds();
    for (const fd of [this.stdin, this.stdout, this.stderr]) if (fd !== undefined) closeQuietly(fd);
    this.stdin = this.stdout = this.stderr = undefined;
  }
}
