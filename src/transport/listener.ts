import { lstat, unlink } from "node:fs/promises";
import { connect, type Server, type Socket } from "node:net";
import { AgentError, Code } from "../errors.js";
import { listenUnixFd, listenVsockFd, serverFromListeningFd } from "../sys/listening-socket.js";
import { formatListenAddress, type ListenAddress } from "./address.js";

export interface Listener {
  readonly address: ListenAddress;
  /** Stops accepting; connections already accepted are left to their protocol servers. Idempotent. */
  close(): Promise<void>;
}

function isLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}

/** Clears a socket file left by a previous run; refuses to touch a live socket or any other file. */
async function clearStaleSocket(path: string): Promise<void> {
  const stat = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (!stat) return;
  if (!stat.isSocket()) {
    throw new AgentError(Code.ALREADY_EXISTS, `cannot listen on ${path}: it exists and is not a socket`);
  }
  if (await isLive(path)) {
    throw new AgentError(Code.ALREADY_EXISTS, `cannot listen on ${path}: another server is listening there`);
  }
  await unlink(path);
}

function listeningFd(address: ListenAddress): number {
  switch (address.kind) {
    case "unix":
      return listenUnixFd(address.path);
    case "abstract":
      return listenUnixFd(`\0${address.name}`);
    case "vsock":
      return listenVsockFd(address.cid, address.port);
  }
}

/**
 * Listens on a unix or vsock address. Every family takes the same path: a native bind and listen, then
 * the fd wrapped as a net.Server, so the unix sockets the tests use exercise the vsock code path too.
 */
export async function listen(
  address: ListenAddress,
  onConnection: (socket: Socket) => void,
): Promise<Listener> {
  if (address.kind === "unix") await clearStaleSocket(address.path);
  let server: Server;
  try {
    server = await serverFromListeningFd(listeningFd(address), onConnection);
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
