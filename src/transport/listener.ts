import { unlink } from "node:fs/promises";
import type { Server, Socket } from "node:net";
import { AgentError } from "../errors.js";
import { listenUnixFd, listenVsockFd, serverFromListeningFd } from "../sys/listening-socket.js";
import { formatListenAddress, type SocketAddress } from "./address.js";
import { clearStaleSocket } from "./unix-socket.js";

/**
 * Kata's hosts open one connection to the agent (the shim's; Kata 1.x one per container process), plus a
 * few for tools (kata-runtime exec, metrics): 128 leaves room for all of them and bounds the descriptors
 * and buffers strangers could take.
 */
export const DEFAULT_MAX_CONNECTIONS = 128;

export interface ListenOptions {
  log: (level: "debug" | "warn", message: string, fields: Record<string, unknown>) => void;
  /**
   * Connections open at once. One more makes room by closing the oldest connection that has sent nothing
   * yet (a flood of idle connections cannot lock a host out); with none such, it is closed as soon as it is
   * accepted, until others close.
   */
  maxConnections?: number;
}

export interface Listener {
  readonly address: SocketAddress;
  /** Stops accepting; connections already accepted are left to their protocol servers. Idempotent. */
  close(): Promise<void>;
}

function listeningFd(address: SocketAddress): number {
  switch (address.kind) {
    case "unix":
      return listenUnixFd(address.path);
    case "abstract":
      return listenUnixFd(`\0${address.name}`);
    case "vsock":
      return listenVsockFd(address.cid, address.port);
  }
}

/** A log line a flood would repeat, at most once a second: the first at once, later ones with a count of those left out. */
function throttled(write: (fields: Record<string, unknown>, message: string) => void, intervalMs = 1000) {
  let last = Number.NEGATIVE_INFINITY;
  let leftOut = 0;
  return (fields: Record<string, unknown>, message: string) => {
    const now = performance.now();
    if (now - last < intervalMs) {
      leftOut++;
      return;
    }
    write(leftOut > 0 ? { ...fields, left_out: leftOut } : fields, message);
    last = now;
    leftOut = 0;
  };
}

/**
 * Listens on a unix or vsock address. Every family takes the same path: a native bind and listen, then
 * the fd wrapped as a net.Server, so the unix sockets the tests use exercise the vsock code path too.
 * Nothing a peer or the kernel does to a socket can throw out of here: every accepted socket has an
 * 'error' listener from the start, and a failed accept is logged while the server keeps listening.
 */
export async function listen(
  address: SocketAddress,
  onConnection: (socket: Socket) => void,
  options: ListenOptions,
): Promise<Listener> {
  const { log } = options;
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const refused = throttled((fields, message) => log("warn", message, fields));
  const acceptFailed = throttled((fields, message) => log("warn", message, fields));
  const evicted = throttled((fields, message) => log("warn", message, fields));
  const open = new Set<Socket>();
  /** Open connections that have sent nothing yet, oldest first. */
  const silent = new Set<Socket>();
  const admit = (socket: Socket) => {
    socket.on("error", (error: NodeJS.ErrnoException) => {
      // Once a protocol server has the socket, it has its own listener and says more.
      if (socket.listenerCount("error") === 1) log("debug", "connection error", { error: error.message });
    });
    if (open.size >= maxConnections) {
      const oldest = silent.values().next().value;
      if (!oldest) {
        refused({ open: open.size, limit: maxConnections }, "refused a connection: too many are open");
        socket.destroy();
        return;
      }
      evicted(
        { open: open.size, limit: maxConnections },
        "closed the oldest connection that has sent nothing, to make room for a new one",
      );
      silent.delete(oldest);
      open.delete(oldest);
      oldest.destroy();
    }
    open.add(socket);
    silent.add(socket);
    socket.once("data", () => silent.delete(socket));
    socket.once("close", () => {
      silent.delete(socket);
      open.delete(socket);
    });
    onConnection(socket);
  };
  const onError = (error: NodeJS.ErrnoException) =>
    acceptFailed({ error: error.message, code: error.code }, "cannot accept a connection; still listening");
  if (address.kind === "unix") await clearStaleSocket(address.path);
  let server: Server;
  try {
    server = await serverFromListeningFd(listeningFd(address), admit, onError);
  } catch (error) {
    throw AgentError.wrap(error, `cannot listen on ${formatListenAddress(address)}`);
  }
  let closed = false;
  return {
    address,
    async close() {
      if (closed) return;
      closed = true;
      // Stops accepting at once; close()'s callback would wait until every open connection has ended,
      // which is the protocol servers' business (and an idle host connection never ends on its own).
      server.close();
      if (address.kind === "unix") await unlink(address.path).catch(() => undefined);
    },
  };
}
