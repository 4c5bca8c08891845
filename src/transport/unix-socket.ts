import { lstat, unlink } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { AgentError, Code } from "../errors.js";

/** A connected unix stream socket at `path`; rejects with the connect error. */
export function connectUnix(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
  });
}

function isLive(path: string): Promise<boolean> {
  return connectUnix(path).then(
    (probe) => {
      probe.destroy();
      return true;
    },
    () => false,
  );
}

/** Clears a socket file left by a previous run; refuses to touch a live socket or any other file. */
export async function clearStaleSocket(path: string): Promise<void> {
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
