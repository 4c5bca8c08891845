import { unlink } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { MuxSession } from "../protocol/mux/index.js";
import { clearStaleSocket, connectUnix } from "../transport/unix-socket.js";

/** Clients served at once, as the agent's own sockets (a client past it is closed at once). */
const MAX_CLIENTS = 128;
/** After QEMU's end of the port closes, how long a new connect is tried before the VM counts as gone. */
const RECONNECT_FOR_MS = 1000;
const RECONNECT_EVERY_MS = 50;

export type ProxyLog = (
  level: "debug" | "info" | "warn",
  message: string,
  fields?: Record<string, unknown>,
) => void;

export interface AgentProxyOptions {
  /** QEMU's socket for the host end of the agent's virtio-serial port. */
  portSocket: string;
  /** Where ttrpc clients connect; each connection is a stream of its own in the port's session. */
  agentSocket: string;
  log: ProxyLog;
  signal?: AbortSignal;
}

async function connectWithin(path: string, ms: number, signal?: AbortSignal): Promise<Socket | undefined> {
  const end = Date.now() + ms;
  for (;;) {
    if (signal?.aborted) return undefined;
    try {
      return await connectUnix(path);
    } catch {
      if (Date.now() >= end) return undefined;
    }
    await new Promise((resolve) => setTimeout(resolve, RECONNECT_EVERY_MS));
  }
}

/**
 * The host end of berth's serial transport: one session (protocol/mux) on QEMU's socket for the port, and
 * a unix socket where any number of ttrpc clients connect, each carried as a stream of its own. A client
 * that goes away closes its stream, and the guest drops whatever it still had for it. If QEMU's end drops
 * (QEMU restarting the chardev, or exiting), the session goes with every client in it, and the proxy
 * connects again; once QEMU no longer answers, the VM is gone and the proxy ends. Resolves then, or on
 * `signal`.
 */
export async function runAgentProxy(options: AgentProxyOptions): Promise<void> {
  const { log, signal } = options;
  let port: Socket | undefined;
  const session = new MuxSession({
    role: "host",
    link: {
      write: (chunks) => {
        if (!port || port.destroyed) return;
        port.cork();
        for (const chunk of chunks) port.write(chunk);
        port.uncork();
      },
    },
    onSynced: () => log("info", "the agent answered: session up"),
    log: (level, message, fields) => log(level, message, fields),
  });
  const clients = new Set<Socket>();
  const server = await listenUnix(options.agentSocket, (client) => {
    if (clients.size >= MAX_CLIENTS) {
      log("warn", "refused a client: too many are connected", { clients: clients.size });
      client.destroy();
      return;
    }
    clients.add(client);
    const stream = session.openStream();
    const end = () => {
      clients.delete(client);
      client.destroy();
      stream.destroy();
    };
    client.on("error", end);
    client.on("close", end);
    stream.on("error", end);
    stream.on("close", end);
    client.pipe(stream);
    stream.pipe(client);
  });
  try {
    for (;;) {
      const socket = await connectWithin(options.portSocket, port ? RECONNECT_FOR_MS : 30_000, signal);
      if (!socket) break;
      port = socket;
      log("debug", "connected to the agent's port", { socket: options.portSocket });
      const closed = new Promise<void>((resolve) => {
        socket.once("close", () => resolve());
        signal?.addEventListener("abort", () => socket.destroy(), { once: true });
      });
      socket.on("error", (error: Error) =>
        log("debug", "the port's socket failed", { error: error.message }),
      );
      socket.on("data", (chunk: Buffer) => session.receive(chunk));
      session.linkUp();
      await closed;
      session.linkDown();
      if (signal?.aborted) break;
      log("info", "QEMU closed the agent's port; connecting again");
    }
  } finally {
    session.close();
    for (const client of clients) client.destroy();
    server.close();
    await unlink(options.agentSocket).catch(() => undefined);
    log("info", signal?.aborted ? "proxy stopped" : "the VM is gone: proxy stopped");
  }
}

/** Listens at `path`, taking the place of a socket file nobody serves any more, never of a live one. */
async function listenUnix(path: string, onClient: (socket: Socket) => void): Promise<Server> {
  await clearStaleSocket(path);
  return new Promise((resolve, reject) => {
    const server = createServer({ allowHalfOpen: false }, onClient);
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}
