import { closeSync } from "node:fs";
import { createServer, type Server, Socket } from "node:net";
import { getSystemErrorName } from "node:util";
import { native } from "./native.js";

interface TcpWrapBinding {
  TCP: new (type: number) => { open(fd: number): number };
  constants: { SERVER: number; SOCKET: number };
}

/**
 * Node's public API wraps only TCP and unix sockets that it created itself. A libuv TCP handle, though,
 * serves any connected or listening stream socket: it only reads, writes, accepts and closes the fd.
 * This is the one place berth reaches for that handle (`process.binding("tcp_wrap")`).
 */
function tcpWrap(): TcpWrapBinding {
  const binding = (process as unknown as { binding(name: string): TcpWrapBinding }).binding("tcp_wrap");
  if (typeof binding?.TCP !== "function")
    throw new Error("this Node.js has no tcp_wrap binding to wrap sockets with");
  return binding;
}

/**
 * Turns a listening stream socket fd of any family into a net.Server that emits ordinary net.Sockets.
 * The server owns the fd from then on. Once it listens, `onError` hears every error it reports (an
 * accept that failed: EMFILE, ENFILE, ENOMEM, ENOBUFS); the server keeps listening.
 */
export async function serverFromListeningFd(
  fd: number,
  onConnection: (socket: Socket) => void,
  onError: (error: NodeJS.ErrnoException) => void,
): Promise<Server> {
  const { TCP, constants } = tcpWrap();
  const handle = new TCP(constants.SERVER);
  const status = handle.open(fd);
  if (status !== 0) {
    try {
      closeSync(fd);
    } catch {
      // the fd was not open: nothing leaks
    }
    const error: NodeJS.ErrnoException = new Error(
      `cannot wrap socket fd ${fd}: ${getSystemErrorName(status)}`,
    );
    error.code = getSystemErrorName(status);
    throw error;
  }
  const server = createServer(onConnection);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(handle, () => {
      server.off("error", reject);
      server.on("error", onError);
      resolve(server);
    });
  });
}

/** Turns a connected stream socket fd of any family (vsock, abstract unix) into a net.Socket that owns it. */
export function socketFromConnectedFd(fd: number): Socket {
  const { TCP, constants } = tcpWrap();
  const handle = new TCP(constants.SOCKET);
  const status = handle.open(fd);
  if (status !== 0) {
    closeSync(fd);
    const error: NodeJS.ErrnoException = new Error(
      `cannot wrap socket fd ${fd}: ${getSystemErrorName(status)}`,
    );
    error.code = getSystemErrorName(status);
    throw error;
  }
  return new Socket({ handle, readable: true, writable: true } as unknown as ConstructorParameters<
    typeof Socket
  >[0]);
}

/** Connects to vsock://cid:port, or to a unix socket by its raw address (a leading "\0" makes it abstract). */
export async function connectStream(
  to: { vsock: { cid: number; port: number } } | { unix: string },
): Promise<Socket> {
  const fd =
    "vsock" in to
      ? await native().vsockConnect(to.vsock.cid, to.vsock.port)
      : await native().unixConnect(Buffer.from(to.unix));
  return socketFromConnectedFd(fd);
}

export const DEFAULT_BACKLOG = 128;

/** An AF_VSOCK listening socket; `cid` -1 is VMADDR_CID_ANY. */
export function listenVsockFd(cid: number, port: number, backlog = DEFAULT_BACKLOG): number {
  return native().vsockListen(cid, port, backlog);
}

/**
 * An AF_UNIX listening socket; a name starting with "\0" is abstract. The address length is the name's
 * own, as Go, Rust and Python use it; Node's own abstract sockets pad the name to 108 bytes, so a Node
 * client cannot reach this socket through `net.connect`.
 */
export function listenUnixFd(path: string, backlog = DEFAULT_BACKLOG): number {
  return native().unixListen(Buffer.from(path), backlog);
}
