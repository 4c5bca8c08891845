import type { Duplex } from "node:stream";
import { AgentError } from "../errors.js";
import { MuxSession } from "../protocol/mux/index.js";
import { findVirtioPort, SerialPort } from "./serial-port.js";

const DRAIN_MS = 1000;

export interface SerialListener {
  /** The port's device, as found by its name. */
  readonly device: string;
  /** Refuses new connections; those open are served on. */
  stopAccepting(): Promise<void>;
  /**
   * Ends the session (every connection in it) once what was written to the port has gone out (at most
   * DRAIN_MS: a reply to DestroySandbox must reach the host before the guest powers off), and closes the
   * port. Idempotent.
   */
  close(): Promise<void>;
}

export interface SerialListenOptions {
  log: (level: "debug" | "warn", message: string, fields: Record<string, unknown>) => void;
  sysfs?: string;
  dev?: string;
  /** Connections open at once; more are refused as they open (default 128, as on sockets). */
  maxConnections?: number;
}

/**
 * Serves connections over the virtio-serial port named `name`: each stream the host opens in the port's
 * session (protocol/mux) is handed on as a connection of its own.
 */
export async function listenSerial(
  name: string,
  onConnection: (stream: Duplex) => void,
  options: SerialListenOptions,
): Promise<SerialListener> {
  const device = await findVirtioPort(name, options);
  const { log } = options;
  let port: SerialPort | undefined;
  const session = new MuxSession({
    role: "guest",
    link: { write: (chunks) => port?.write(chunks) },
    onStream: (stream) => {
      stream.on("error", (error: Error) => log("debug", "serial connection error", { error: error.message }));
      onConnection(stream);
    },
    maxStreams: options.maxConnections,
    log,
  });
  try {
    port = new SerialPort(device, {
      up: () => {
        log("debug", "the host end of the serial port is there", { device });
        session.linkUp();
      },
      down: () => {
        log("debug", "the host end of the serial port went away", { device });
        session.linkDown();
      },
      data: (chunk) => session.receive(chunk),
      log,
    });
  } catch (error) {
    throw AgentError.wrap(error, `cannot open the serial port ${device}`);
  }
  port.start();
  // A listening socket keeps Node's loop alive; the port's poll does not, so this handle does instead.
  const serving = setInterval(() => {}, 2 ** 30);
  let closed = false;
  return {
    device,
    async stopAccepting() {
      session.refuseStreams();
    },
    async close() {
      if (closed) return;
      closed = true;
      session.refuseStreams();
      await port?.drained(DRAIN_MS);
      clearInterval(serving);
      session.close();
      port?.close();
    },
  };
}
