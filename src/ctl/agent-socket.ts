import type { Socket } from "node:net";
import { getSystemErrorMap } from "node:util";
import { connectStream } from "../sys/listening-socket.js";
import type { SocketAddress } from "../transport/address.js";
import { connectUnix } from "../transport/unix-socket.js";

/**
 * A connected stream socket to the agent. Unix paths go through Node; abstract names and vsock through
 * berth's native connect, since Node pads abstract names and has no vsock.
 */
export function openAgentSocket(address: SocketAddress): Promise<Socket> {
  switch (address.kind) {
    case "abstract":
      return connectStream({ unix: `\0${address.name}` });
    case "vsock":
      return connectStream({ vsock: { cid: address.cid, port: address.port } });
    case "unix":
      return connectUnix(address.path);
  }
}

/** "ENOENT (no such file or directory)" for a connect error, without Node's syscall and path. */
export function connectFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code !== "string") return error instanceof Error ? error.message : String(error);
  const description = [...getSystemErrorMap().values()].find(([name]) => name === code)?.[1];
  return description ? `${code} (${description})` : code;
}
