/**
 * The ttrpc frame: a 10-byte big-endian header (payload length, stream id, message type, flags)
 * followed by the payload. This module is pure: bytes in, frames out.
 */

export const HEADER_LENGTH = 10;

/** The largest payload ttrpc accepts (containerd/ttrpc `messageLengthMax`). */
export const DEFAULT_MAX_PAYLOAD = 4 << 20;

export const MessageType = {
  REQUEST: 0x01,
  RESPONSE: 0x02,
  DATA: 0x03,
} as const;

export const Flag = {
  REMOTE_CLOSED: 0x01,
  REMOTE_OPEN: 0x02,
  NO_DATA: 0x04,
} as const;

export interface FrameHeader {
  streamId: number;
  type: number;
  flags: number;
  length: number;
}

export interface Frame extends FrameHeader {
  payload: Uint8Array;
}

/**
 * A whole frame, or the header of a frame whose payload is being discarded: too large for the protocol
 * ("oversized"), or not admitted by the reader ("refused").
 */
export type DecodedFrame =
  | ({ kind: "frame" } & Frame)
  | ({ kind: "oversized" } & FrameHeader)
  | ({ kind: "refused" } & FrameHeader);

/** Writes a frame header into the first 10 bytes of `target`. */
export function encodeFrameHeader(
  target: Buffer,
  streamId: number,
  type: number,
  flags: number,
  length: number,
) {
  target.writeUInt32BE(length, 0);
  target.writeUInt32BE(streamId, 4);
  target[8] = type;
  target[9] = flags;
}

/** Header and payload in one buffer. */
export function encodeFrame(streamId: number, type: number, flags: number, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(HEADER_LENGTH + payload.length);
  encodeFrameHeader(out, streamId, type, flags, payload.length);
  out.set(payload, HEADER_LENGTH);
  return out;
}

export interface FrameDecoder {
  /** Feeds bytes in arrival order; returns every frame they complete. */
  push(chunk: Uint8Array): DecodedFrame[];
  /** Bytes held for an incomplete frame (a payload being discarded does not count). */
  readonly buffered: number;
  /** Whether a frame's payload is being gathered across chunks. */
  readonly assembling: boolean;
}

export interface FrameDecoderOptions {
  /**
   * Asked before a payload that did not come whole is gathered (memory is set aside for all of it): false
   * discards it as it arrives, and its header is reported as "refused".
   */
  admit?: (header: FrameHeader) => boolean;
}

/**
 * A push-based frame decoder. Complete frames inside one chunk are returned as views of it, without copying.
 * A frame longer than `maxPayload` is reported once, as soon as its header is read, and its payload is
 * skipped as it arrives, so the stream stays in step and nothing of it is held in memory.
 */
export function createFrameDecoder(
  maxPayload: number = DEFAULT_MAX_PAYLOAD,
  options: FrameDecoderOptions = {},
): FrameDecoder {
  const header = new Uint8Array(HEADER_LENGTH);
  let headerFill = 0;
  let current: FrameHeader | undefined;
  let payload: Uint8Array | undefined;
  let payloadFill = 0;
  let skip = 0;

  function readHeader(bytes: Uint8Array, offset: number): FrameHeader {
    return {
      length:
        (bytes[offset] as number) * 0x100_0000 +
        ((bytes[offset + 1] as number) << 16) +
        (((bytes[offset + 2] as number) << 8) | (bytes[offset + 3] as number)),
      streamId:
        (bytes[offset + 4] as number) * 0x100_0000 +
        ((bytes[offset + 5] as number) << 16) +
        (((bytes[offset + 6] as number) << 8) | (bytes[offset + 7] as number)),
      type: bytes[offset + 8] as number,
      flags: bytes[offset + 9] as number,
    };
  }

  const frame = (h: FrameHeader, payload: Uint8Array): DecodedFrame => ({
    kind: "frame",
    streamId: h.streamId,
    type: h.type,
    flags: h.flags,
    length: h.length,
    payload,
  });

  function startFrame(h: FrameHeader, out: DecodedFrame[]): void {
    if (h.length > maxPayload) {
      out.push({ kind: "oversized", streamId: h.streamId, type: h.type, flags: h.flags, length: h.length });
      skip = h.length;
      return;
    }
    if (h.length > 0 && options.admit && !options.admit(h)) {
      out.push({ kind: "refused", streamId: h.streamId, type: h.type, flags: h.flags, length: h.length });
      skip = h.length;
      return;
    }
    current = h;
    payload = new Uint8Array(h.length);
    payloadFill = 0;
  }

  function push(chunk: Uint8Array): DecodedFrame[] {
    const out: DecodedFrame[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - offset);
        skip -= n;
        offset += n;
        continue;
      }
      if (current && payload) {
        const n = Math.min(payload.length - payloadFill, chunk.length - offset);
        payload.set(chunk.subarray(offset, offset + n), payloadFill);
        payloadFill += n;
        offset += n;
        if (payloadFill === payload.length) {
          out.push(frame(current, payload));
          current = undefined;
          payload = undefined;
          payloadFill = 0;
        }
        continue;
      }
      if (headerFill === 0 && chunk.length - offset >= HEADER_LENGTH) {
        const h = readHeader(chunk, offset);
        offset += HEADER_LENGTH;
        if (h.length <= maxPayload && chunk.length - offset >= h.length) {
          out.push(frame(h, chunk.subarray(offset, offset + h.length)));
          offset += h.length;
        } else {
          startFrame(h, out);
        }
        continue;
      }
      const n = Math.min(HEADER_LENGTH - headerFill, chunk.length - offset);
      header.set(chunk.subarray(offset, offset + n), headerFill);
      headerFill += n;
      offset += n;
      if (headerFill === HEADER_LENGTH) {
        headerFill = 0;
        startFrame(readHeader(header, 0), out);
        if (current && current.length === 0) {
          out.push(frame(current, new Uint8Array(0)));
          current = undefined;
          payload = undefined;
        }
      }
    }
    return out;
  }

  return {
    push,
    get buffered() {
      return headerFill + payloadFill;
    },
    get assembling() {
      return current !== undefined;
    },
  };
}
