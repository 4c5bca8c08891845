import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { createFrameDecoder, encodeFrame, MessageType } from "../../src/protocol/ttrpc/frame.js";
import { decodeResponse, encodeRequest } from "../../src/protocol/ttrpc/messages.js";

export function requestFrame(streamId: number, service: string, method: string, payload: Uint8Array): Buffer {
  const body = encodeRequest({ service, method, payload, timeoutNano: 0n, metadata: [] });
  return encodeFrame(streamId, MessageType.REQUEST, 0, body);
}

/** A ttrpc peer that writes raw frames and, if asked to read, counts the replies by status code. */
export class RawPeer {
  readonly socket: Socket;
  readonly codes = new Map<number, number>();
  replies = 0;

  private constructor(socket: Socket, read: boolean) {
    this.socket = socket;
    socket.on("error", () => {});
    if (!read) {
      socket.pause();
      return;
    }
    const decoder = createFrameDecoder(Number.MAX_SAFE_INTEGER);
    socket.on("data", (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) {
        if (frame.kind !== "frame") continue;
        this.replies++;
        let code = -1;
        try {
          code = decodeResponse(frame.payload).status?.code ?? 0;
        } catch {
          // a reply we cannot decode counts as -1
        }
        this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
      }
    });
  }

  /** Connects; `read` false leaves every reply unread, as a peer that stopped reading would. */
  static async open(path: string, read = true): Promise<RawPeer> {
    const socket = connect(path);
    await once(socket, "connect");
    return new RawPeer(socket, read);
  }

  /**
   * Writes, waiting up to `stallMs` for the socket to drain when its buffer is full. False once the
   * connection is gone or the agent has stopped reading (as it does from a peer that reads no replies).
   */
  async write(bytes: Uint8Array, stallMs = 5000): Promise<boolean> {
    if (this.socket.destroyed) return false;
    if (this.socket.write(bytes)) return true;
    const drained = await new Promise<boolean>((resolve) => {
      const done = (result: boolean) => () => {
        clearTimeout(timer);
        this.socket.off("drain", onDrain);
        this.socket.off("close", onClose);
        resolve(result);
      };
      const onDrain = done(true);
      const onClose = done(false);
      const timer = setTimeout(done(false), stallMs);
      this.socket.on("drain", onDrain);
      this.socket.on("close", onClose);
    });
    return drained && !this.socket.destroyed;
  }

  async waitForReplies(count: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.replies < count && !this.socket.destroyed && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  summary(): Record<string, unknown> {
    return { replies: this.replies, codes: Object.fromEntries(this.codes) };
  }

  close(): void {
    this.socket.destroy();
  }
}
