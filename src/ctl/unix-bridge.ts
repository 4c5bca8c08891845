import { rmSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A private unix socket path whose connections are relayed to another stream socket. */
export interface UnixBridge {
  readonly path: string;
  close(): void;
}

/**
 * Listens on a fresh unix socket in a private temporary directory and relays each connection to a
 * socket from `open`. gRPC's client dials only unix paths and TCP; this lets it reach abstract and vsock
 * addresses too.
 */
export async function bridgeToUnix(open: () => Promise<Socket>): Promise<UnixBridge> {
  const dir = await mkdtemp(join(tmpdir(), "berthctl-"));
  const path = join(dir, "agent.sock");
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  };
  const server = createServer((local) => {
    track(local);
    open().then(
      (remote) => {
        track(remote);
        local.once("close", () => remote.destroy());
        remote.once("close", () => local.destroy());
        local.pipe(remote).pipe(local);
      },
      () => local.destroy(),
    );
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => resolve());
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    path,
    close() {
      server.close();
      for (const socket of sockets) socket.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
