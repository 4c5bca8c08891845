import { connect } from "node:net";
import type { Duplex } from "node:stream";
import { Code } from "./code.js";
import {
  createFrameDecoder,
  DEFAULT_MAX_PAYLOAD,
  type DecodedFrame,
  encodeFrameHeader,
  HEADER_LENGTH,
  MessageType,
} from "./frame.js";
import { decodeResponse, encodeRequest, type KeyValue } from "./messages.js";
import { Outbox } from "./outbox.js";
import { TtrpcError } from "./status.js";

export interface CallOptions {
  /** Sent to the server as `timeout_nano`, and enforced here: the call fails with DEADLINE_EXCEEDED. */
  timeoutMs?: number;
  signal?: AbortSignal;
  metadata?: Readonly<Record<string, string | readonly string[]>>;
}

interface PendingCall {
  resolve: (payload: Uint8Array) => void;
  reject: (error: TtrpcError) => void;
}

const MAX_STREAM_ID = 0xffff_ffff;

function metadataToKeyValues(metadata: CallOptions["metadata"]): KeyValue[] {
  if (!metadata) return [];
  const out: KeyValue[] = [];
  for (const [key, value] of Object.entries(metadata)) {
    for (const v of typeof value === "string" ? [value] : value)
      out.push({ key: key.toLowerCase(), value: v });
  }
  return out;
}

/** A ttrpc client on one connection; any number of calls may be in flight at once. */
export class TtrpcClient {
  readonly #socket: Duplex;
  readonly #pending = new Map<number, PendingCall>();
  readonly #maxPayload: number;
  #nextStreamId = 1;
  #closedError: TtrpcError | undefined;
  readonly #outbox: Outbox;

  constructor(socket: Duplex, options: { maxPayload?: number } = {}) {
    this.#socket = socket;
    this.#maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    this.#outbox = new Outbox((data, written) => socket.write(data, written));
    const decoder = createFrameDecoder(this.#maxPayload);
    socket.on("data", (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) this.#onFrame(frame);
    });
    socket.on("error", (error: Error) =>
      this.#fail(new TtrpcError(Code.UNAVAILABLE, `connection failed: ${error.message}`)),
    );
    socket.on("close", () => this.#fail(new TtrpcError(Code.UNAVAILABLE, "connection closed")));
  }

  /** Sends one unary call; resolves with the reply payload or rejects with a TtrpcError. */
  call(service: string, method: string, payload: Uint8Array, options: CallOptions = {}): Promise<Uint8Array> {
    if (this.#closedError) return Promise.reject(this.#closedError);
    if (options.signal?.aborted)
      return Promise.reject(new TtrpcError(Code.CANCELLED, "call aborted before it was sent"));
    if (this.#nextStreamId > MAX_STREAM_ID) {
      return Promise.reject(new TtrpcError(Code.RESOURCE_EXHAUSTED, "no stream ids left on this connection"));
    }
    const streamId = this.#nextStreamId;
    this.#nextStreamId += 2;
    const frame = encodeRequest(
      {
        service,
        method,
        payload,
        timeoutNano: options.timeoutMs === undefined ? 0n : BigInt(Math.round(options.timeoutMs * 1e6)),
        metadata: metadataToKeyValues(options.metadata),
      },
      HEADER_LENGTH,
    );
    const length = frame.length - HEADER_LENGTH;
    if (length > this.#maxPayload) {
      return Promise.reject(
        new TtrpcError(
          Code.RESOURCE_EXHAUSTED,
          `request of ${length} bytes exceeds the limit of ${this.#maxPayload} bytes`,
        ),
      );
    }
    return new Promise<Uint8Array>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () =>
        settle(new TtrpcError(Code.CANCELLED, `${service}/${method} aborted by the caller`));
      const settle = (outcome: Uint8Array | TtrpcError) => {
        if (!this.#pending.delete(streamId)) return;
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        if (outcome instanceof TtrpcError) reject(outcome);
        else resolve(outcome);
      };
      this.#pending.set(streamId, { resolve: settle, reject: settle });
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(
          () =>
            settle(
              new TtrpcError(
                Code.DEADLINE_EXCEEDED,
                `${service}/${method} timed out after ${options.timeoutMs}ms`,
              ),
            ),
          options.timeoutMs,
        );
      }
      options.signal?.addEventListener("abort", onAbort, { once: true });
      encodeFrameHeader(frame, streamId, MessageType.REQUEST, 0, length);
      this.#outbox.push(frame);
    });
  }

  get pendingCalls(): number {
    return this.#pending.size;
  }

  /** Closes the connection; calls in flight fail with UNAVAILABLE. */
  close(): void {
    this.#fail(new TtrpcError(Code.UNAVAILABLE, "client closed"));
    this.#socket.destroy();
  }

  #onFrame(frame: DecodedFrame) {
    if (frame.type !== MessageType.RESPONSE) return;
    const call = this.#pending.get(frame.streamId);
    if (!call) return;
    if (frame.kind !== "frame") {
      // The client's decoder admits every frame; only one past the limit is dropped.
      call.reject(
        new TtrpcError(
          Code.RESOURCE_EXHAUSTED,
          `response of ${frame.length} bytes exceeds the limit of ${this.#maxPayload} bytes`,
        ),
      );
      return;
    }
    try {
      const response = decodeResponse(frame.payload);
      if (response.status && response.status.code !== Code.OK)
        call.reject(TtrpcError.fromStatus(response.status));
      else call.resolve(response.payload);
    } catch (error) {
      call.reject(new TtrpcError(Code.INTERNAL, `cannot decode the response envelope: ${String(error)}`));
    }
  }

  #fail(error: TtrpcError) {
    this.#closedError ??= error;
    for (const call of [...this.#pending.values()]) call.reject(error);
  }
}

/** Connects to a ttrpc server on a unix socket path ("\0name" for an abstract socket). */
export function connectTtrpc(path: string, options: { maxPayload?: number } = {}): Promise<TtrpcClient> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(new TtrpcClient(socket, options));
    });
    socket.once("error", reject);
  });
}
