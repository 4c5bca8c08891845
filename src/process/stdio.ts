import { close } from "node:fs";
import { rm } from "node:fs/promises";
import { connect } from "node:net";
import { AgentError, Code } from "../errors.js";
import { native } from "../sys/native.js";
import { ProcessIo } from "./process-io.js";

const closeFd = (fd: number) => new Promise<void>((resolve) => close(fd, () => resolve()));

/**
 * A process's stdio as berth holds it: for a plain process, the host-facing ends of three pipes (pipes, not
 * sockets: workloads open /dev/stdout; berth's stdin end non-blocking, the process's ends blocking, as
 * programs expect); for a terminal process, the pty master runc sends back.
 */
export class ProcessStdio {
  stdin: number | undefined;
  stdout: number | undefined;
  stderr: number | undefined;
  pty: number | undefined;
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
      native().setNonBlocking(inWrite);
      io.stdin = inWrite;
      io.stdout = outRead;
      io.stderr = errRead;
      io.#child = { stdin: inRead, stdout: outWrite, stderr: errWrite };
    } catch (error) {
      for (const fd of opened) close(fd, () => {});
      throw AgentError.from(error);
    }
    return io;
  }

  /**
   * Listens on `socketPath` for runc's `--console-socket` handshake; `received` settles when the pty
   * master has arrived (or after `timeoutMs`).
   */
  static terminal(
    socketPath: string,
    timeoutMs: number,
  ): { io: ProcessStdio; received: Promise<void>; cancel: () => void } {
    const io = new ProcessStdio();
    const listenFd = native().unixListen(Buffer.from(socketPath), 1);
    const received = (async () => {
      try {
        io.pty = await native().receiveFd(listenFd, timeoutMs);
      } catch (error) {
        throw new AgentError(Code.INTERNAL, `no pty master from runc on ${socketPath}`, { cause: error });
      } finally {
        await Promise.all([closeFd(listenFd), rm(socketPath, { force: true })]);
      }
    })();
    // A connection that sends nothing ends the wait at once (when runc failed before it connected).
    const cancel = () => {
      connect(socketPath)
        .on("error", () => {})
        .end();
    };
    return { io, received, cancel };
  }

  /** The fds to give runc as stdin, stdout and stderr (none for a terminal process). */
  get childFds(): { stdin: number; stdout: number; stderr: number } | undefined {
    return this.#child;
  }

  /** Closes berth's copies of the process's ends, so EOF comes when the process closes its own. */
  async closeChildEnds(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child) await Promise.all([closeFd(child.stdin), closeFd(child.stdout), closeFd(child.stderr)]);
  }

  /** Hands the host's ends to a ProcessIo, which owns them from then on. */
  open(): ProcessIo {
    const io = new ProcessIo({ stdin: this.stdin, stdout: this.stdout, stderr: this.stderr, pty: this.pty });
    this.stdin = this.stdout = this.stderr = this.pty = undefined;
    return io;
  }

  async close(): Promise<void> {
    await this.closeChildEnds();
    const fds = [this.stdin, this.stdout, this.stderr, this.pty].filter((fd) => fd !== undefined);
    this.stdin = this.stdout = this.stderr = this.pty = undefined;
    await Promise.all(fds.map(closeFd));
  }
}
