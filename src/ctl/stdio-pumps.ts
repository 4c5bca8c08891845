import type { Writable } from "node:stream";
import type { AgentClient } from "./agent-client.js";
import { type CtlInput, outputSink } from "./ctl-io.js";

/** Which process of which container: execId "" is the container's init process. */
export interface ProcessRef {
  containerId: string;
  execId: string;
}

const READ_SIZE = 64 * 1024;

/** Copies the process's stdout or stderr to `out` until EOF (an empty read). */
export async function pumpOutput(
  client: AgentClient,
  stream: "readStdout" | "readStderr",
  ref: ProcessRef,
  out: Writable,
): Promise<void> {
  const write = outputSink(out);
  for (;;) {
    const { data } = await client.call(stream, { ...ref, len: READ_SIZE }, {});
    if (data.length === 0) return;
    await write(data);
  }
}

/**
 * Copies `input` to the process's stdin, one WriteStdin at a time, and closes its stdin at EOF. `stop`
 * ends it early (the process has exited). Errors end it quietly: they mean the process, or its stdin,
 * is gone, and the exit status tells the rest.
 */
export function pumpInput(client: AgentClient, ref: ProcessRef, input: CtlInput): { stop(): void } {
  let stopped = false;
  const pump = async () => {
    for await (const chunk of input as AsyncIterable<Buffer | string>) {
      if (stopped) return;
      await client.call("writeStdin", {
        ...ref,
        data: typeof chunk === "string" ? Buffer.from(chunk) : chunk,
      });
    }
    if (!stopped) await client.call("closeStdin", ref);
  };
  pump().catch(() => {});
  return {
    stop() {
      stopped = true;
      input.destroy();
    },
  };
}
