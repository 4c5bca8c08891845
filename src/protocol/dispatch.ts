import type { Socket } from "node:net";

export type WireProtocol = "ttrpc" | "grpc";

/** The first bytes of every HTTP/2 connection (RFC 9113 §3.4); a ttrpc frame starts with 0x00. */
const HTTP2_PREFACE_START = 0x50; // "P" of "PRI * HTTP/2.0"

/**
 * Kata's hosts write their first request (ttrpc) or the HTTP/2 preface (gRPC) as soon as they are
 * connected: milliseconds, even on a loaded host. A connection silent for 5 s is no client of ours, and
 * closing it keeps idle connections from holding descriptors (and the connection cap) for good.
 */
export const DEFAULT_FIRST_BYTE_TIMEOUT_MS = 5000;

export interface ProtocolServers {
  ttrpc(socket: Socket): void;
  grpc(socket: Socket): void;
}

export interface DispatcherOptions {
  /** Serve only this protocol; by default each connection is served in the protocol it speaks. */
  only?: WireProtocol | undefined;
  /** A connection that sends nothing for this long is closed. */
  firstByteTimeoutMs?: number;
  log?: (message: string, fields: Record<string, unknown>) => void;
}

/**
 * Hands each connection to the protocol it speaks. Kata 2.x and later talk ttrpc and Kata 1.x talked gRPC
 * on the same vsock port; both clients speak first, so one look at the first byte tells them apart. A
 * connection is handed over only once it has sent something, whatever the protocol.
 */
export function createProtocolDispatcher(
  servers: ProtocolServers,
  options: DispatcherOptions = {},
): (socket: Socket) => void {
  const timeoutMs = options.firstByteTimeoutMs ?? DEFAULT_FIRST_BYTE_TIMEOUT_MS;
  return (socket) => {
    const timer = setTimeout(() => {
      options.log?.(`closing a connection that sent nothing for ${timeoutMs} ms`, {});
      socket.destroy();
    }, timeoutMs);
    timer.unref();
    socket.once("close", () => clearTimeout(timer));
    socket.once("data", (chunk: Buffer) => {
      clearTimeout(timer);
      socket.pause();
      socket.unshift(chunk);
      const protocol = options.only ?? (chunk[0] === HTTP2_PREFACE_START ? "grpc" : "ttrpc");
      servers[protocol](socket);
    });
  };
}
