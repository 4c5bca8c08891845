import { HEADER_LENGTH } from "./frame.js";
import { varintSize, writeVarint } from "./wire.js";

/**
 * Payloads with free bytes in front of them. A reply that is one large bytes field (ReadStdout's output)
 * read into a buffer with room in front can become its message, the ttrpc Response around it and the
 * frame by writing the field headers and the frame header into that room: no copy of the bytes, where
 * encoding copies them once per level. Only a view lent here has room: the bytes in front of any other
 * view may belong to something else (Buffer's shared pool).
 */
const rooms = new WeakMap<Uint8Array, Room>();

interface Room {
  bytes: number;
  /** Called once the bytes have been written out (the socket took them): their buffer may be reused. */
  written: (() => void) | undefined;
}

/** The room a bytes field needs in front of it to be framed in place: its own header, the Response's, the frame's. */
export const REPLY_HEADROOM = 2 * (1 + 5) + HEADER_LENGTH;

/**
 * Lends the `room` bytes in front of `view` (in its ArrayBuffer, which the caller owns and will not
 * touch again until `written`) to whoever frames it. `written` is called once the frame holding the
 * bytes has been written, if it ever is; a reply dropped or copied elsewhere (gRPC) never calls it.
 * Returns `view`.
 */
export function lendHeadroom<T extends Uint8Array>(view: T, room: number, written?: () => void): T {
  if (room > view.byteOffset)
    throw new RangeError(`${room} bytes of headroom asked, ${view.byteOffset} there`);
  rooms.set(view, { bytes: room, written });
  return view;
}

/** Free bytes lent in front of `view`; 0 for a view that was never lent any. */
export const headroomOf = (view: Uint8Array): number => rooms.get(view)?.bytes ?? 0;

/** What to call once `view` has been written out, taken (a second ask gets nothing). */
export function takeWritten(view: Uint8Array): (() => void) | undefined {
  const room = rooms.get(view);
  const written = room?.written;
  if (room) room.written = undefined;
  return written;
}

/**
 * `view` as bytes field `field` of a message, with `front` more bytes left free before the field's
 * header: written into `view`'s headroom when it has enough (the result keeps what is left of it),
 * undefined when it has not. What is to be called once it is written moves to the result.
 */
export function asBytesField(view: Uint8Array, field: number, front = 0): Buffer | undefined {
  const tag = (field << 3) | 2;
  const header = varintSize(tag) + varintSize(view.length);
  const room = rooms.get(view);
  if (!room || room.bytes < header + front) return undefined;
  const start = view.byteOffset - header - front;
  const out = Buffer.from(view.buffer, start, front + header + view.length);
  writeVarint(out, writeVarint(out, front, tag), view.length);
  rooms.set(out, { bytes: room.bytes - header - front, written: takeWritten(view) });
  return out;
}
