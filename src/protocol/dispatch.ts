import type { Socket } from "node:net";

export type WireProtocol = "ttrpc" | "grpc";

/** The first bytes of every HTTP/2 connection (RFC 9113 §3.4); a ttrpc frame starts with 0x00. */
const HTTP2_PREFACE_START = 0x50; // "P" of "PRI * HTTP/2.0"

export interface ProtocolServers {
  ttrpc(socket: Socket): void;
  grpc(socket: Socket): void;
}

/**
 * Hands each connection to the protocol it speaks. Kata 2.x and later talk ttrpc and Kata 1.x talked gRPC
 * on the same vsock port; both clients speak first, so one look at the first byte tells them apart.
 */
export function createProtocolDispatcher(
  servers: ProtocolServers,
  only?: WireProtocol,
): (socket: Socket) => void {
  return (socket) => {
    if (only) {
      servers[only](socket);
      return;
    }
    socket.once("data", (chunk: Buffer) => {
      socket.pause();
      socket.unshift(chunk);
      if (chunk[0] === HTTP2_PREFACE_START) servers.grpc(socket);
      else servers.ttrpc(socket);
    });
  };
}
