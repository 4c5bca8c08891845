/**
 * The ttrpc envelope (containerd/ttrpc `request.proto`: Request, Response, KeyValue) and
 * `google.rpc.Status`. They sit on every call's path and their schema never changes, so they are encoded
 * by hand, each in a single allocation that can leave room for the frame header in front.
 */
import { asBytesField } from "./headroom.js";
import type { AnyMessage, Status } from "./status.js";
import {
  int64Halves,
  varint64Size,
  varintSize,
  WIRE_LEN,
  WIRE_VARINT,
  WireReader,
  writeVarint,
  writeVarint64,
} from "./wire.js";

export interface KeyValue {
  key: string;
  value: string;
}

export interface Request {
  service: string;
  method: string;
  payload: Uint8Array;
  /** Nanoseconds the caller is willing to wait; 0 means no deadline. */
  timeoutNano: bigint;
  metadata: KeyValue[];
}

export interface Response {
  /** Absent on success: containerd/ttrpc and ttrpc-rust clients both read a missing status as OK. */
  status?: Status | undefined;
  payload: Uint8Array;
}

const EMPTY = Buffer.alloc(0);

const tag = (field: number, wireType: number) => (field << 3) | wireType;

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Size of a length-delimited field holding `length` bytes (tag of one byte: fields 1–15). */
const lenFieldSize = (length: number) => 1 + varintSize(length) + length;

class Writer {
  pos: number;
  readonly buf: Buffer;

  constructor(size: number, prefix: number) {
    this.buf = Buffer.allocUnsafe(prefix + size);
    this.pos = prefix;
  }

  lenHeader(field: number, length: number) {
    this.buf[this.pos++] = tag(field, WIRE_LEN);
    this.pos = writeVarint(this.buf, this.pos, length);
  }

  bytes(field: number, value: Uint8Array) {
    this.lenHeader(field, value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  string(field: number, value: string, byteLength: number) {
    this.lenHeader(field, byteLength);
    this.pos += this.buf.write(value, this.pos, byteLength, "utf8");
  }

  varint64(field: number, lo: number, hi: number) {
    this.buf[this.pos++] = tag(field, WIRE_VARINT);
    this.pos = writeVarint64(this.buf, this.pos, lo, hi);
  }
}

function decodeKeyValue(bytes: Buffer): KeyValue {
  const kv: KeyValue = { key: "", value: "" };
  const r = new WireReader(bytes);
  while (!r.done) {
    const t = r.tag();
    if (t === tag(1, WIRE_LEN)) kv.key = r.string();
    else if (t === tag(2, WIRE_LEN)) kv.value = r.string();
    else r.skip(t & 7);
  }
  return kv;
}

/**
 * Metadata entries a request may carry. Hosts send a few (containerd: none; Kata's shims a trace context),
 * and each entry becomes objects of its own: a 4 MiB envelope of a million empty ones took 16 MiB and a
 * tenth of a second of the event loop to decode.
 */
export const MAX_METADATA_ENTRIES = 1024;

export function decodeRequest(bytes: Uint8Array): Request {
  const req: Request = { service: "", method: "", payload: EMPTY, timeoutNano: 0n, metadata: [] };
  const r = new WireReader(asBuffer(bytes));
  while (!r.done) {
    const t = r.tag();
    switch (t) {
      case tag(1, WIRE_LEN):
        req.service = r.string();
        break;
      case tag(2, WIRE_LEN):
        req.method = r.string();
        break;
      case tag(3, WIRE_LEN):
        req.payload = r.bytes();
        break;
      case tag(4, WIRE_VARINT):
        req.timeoutNano = r.int64();
        break;
      case tag(5, WIRE_LEN):
        if (req.metadata.length === MAX_METADATA_ENTRIES) {
          throw new Error(`more than ${MAX_METADATA_ENTRIES} metadata entries`);
        }
        req.metadata.push(decodeKeyValue(r.bytes()));
        break;
      default:
        r.skip(t & 7);
    }
  }
  return req;
}

/** Encodes a Request, leaving `prefix` bytes free in front (for the frame header). */
export function encodeRequest(req: Request, prefix = 0): Buffer {
  const serviceLength = Buffer.byteLength(req.service);
  const methodLength = Buffer.byteLength(req.method);
  const [lo, hi] = int64Halves(req.timeoutNano);
  const entries = req.metadata.map((kv) => {
    const keyLength = Buffer.byteLength(kv.key);
    const valueLength = Buffer.byteLength(kv.value);
    const size = (keyLength ? lenFieldSize(keyLength) : 0) + (valueLength ? lenFieldSize(valueLength) : 0);
    return { kv, keyLength, valueLength, size };
  });
  let size = 0;
  if (serviceLength) size += lenFieldSize(serviceLength);
  if (methodLength) size += lenFieldSize(methodLength);
  if (req.payload.length) size += lenFieldSize(req.payload.length);
  if (lo !== 0 || hi !== 0) size += 1 + varint64Size(lo, hi);
  for (const e of entries) size += lenFieldSize(e.size);

  const w = new Writer(size, prefix);
  if (serviceLength) w.string(1, req.service, serviceLength);
  if (methodLength) w.string(2, req.method, methodLength);
  if (req.payload.length) w.bytes(3, req.payload);
  if (lo !== 0 || hi !== 0) w.varint64(4, lo, hi);
  for (const e of entries) {
    w.lenHeader(5, e.size);
    if (e.keyLength) w.string(1, e.kv.key, e.keyLength);
    if (e.valueLength) w.string(2, e.kv.value, e.valueLength);
  }
  return w.buf;
}

function decodeAny(bytes: Buffer): AnyMessage {
  const any: AnyMessage = { typeUrl: "", value: EMPTY };
  const r = new WireReader(bytes);
  while (!r.done) {
    const t = r.tag();
    if (t === tag(1, WIRE_LEN)) any.typeUrl = r.string();
    else if (t === tag(2, WIRE_LEN)) any.value = r.bytes();
    else r.skip(t & 7);
  }
  return any;
}

export function decodeStatus(bytes: Uint8Array): Status {
  const status: Status = { code: 0, message: "", details: [] };
  const r = new WireReader(asBuffer(bytes));
  while (!r.done) {
    const t = r.tag();
    if (t === tag(1, WIRE_VARINT)) status.code = r.uint32() | 0;
    else if (t === tag(2, WIRE_LEN)) status.message = r.string();
    else if (t === tag(3, WIRE_LEN)) status.details.push(decodeAny(r.bytes()));
    else r.skip(t & 7);
  }
  return status;
}

export function decodeResponse(bytes: Uint8Array): Response {
  const res: Response = { payload: EMPTY };
  const r = new WireReader(asBuffer(bytes));
  while (!r.done) {
    const t = r.tag();
    if (t === tag(1, WIRE_LEN)) res.status = decodeStatus(r.bytes());
    else if (t === tag(2, WIRE_LEN)) res.payload = r.bytes();
    else r.skip(t & 7);
  }
  return res;
}

/**
 * Encodes a Response, leaving `prefix` bytes free in front (for the frame header). A payload lent
 * headroom (see headroom.ts) becomes the Response in place, without a copy.
 */
export function encodeResponse(res: Response, prefix = 0): Buffer {
  const status = res.status;
  if (!status && res.payload.length > 0) {
    const inPlace = asBytesField(res.payload, 2, prefix);
    if (inPlace) return inPlace;
  }
  let statusSize = 0;
  let messageLength = 0;
  let codeHalves: [number, number] = [0, 0];
  let details: { any: AnyMessage; urlLength: number; size: number }[] = [];
  if (status) {
    messageLength = Buffer.byteLength(status.message);
    codeHalves = int64Halves(BigInt(status.code | 0));
    details = status.details.map((any) => {
      const urlLength = Buffer.byteLength(any.typeUrl);
      const size =
        (urlLength ? lenFieldSize(urlLength) : 0) + (any.value.length ? lenFieldSize(any.value.length) : 0);
      return { any, urlLength, size };
    });
    if (status.code !== 0) statusSize += 1 + varint64Size(codeHalves[0], codeHalves[1]);
    if (messageLength) statusSize += lenFieldSize(messageLength);
    for (const d of details) statusSize += lenFieldSize(d.size);
  }
  const size =
    (status ? lenFieldSize(statusSize) : 0) + (res.payload.length ? lenFieldSize(res.payload.length) : 0);

  const w = new Writer(size, prefix);
  if (status) {
    w.lenHeader(1, statusSize);
    if (status.code !== 0) w.varint64(1, codeHalves[0], codeHalves[1]);
    if (messageLength) w.string(2, status.message, messageLength);
    for (const d of details) {
      w.lenHeader(3, d.size);
      if (d.urlLength) w.string(1, d.any.typeUrl, d.urlLength);
      if (d.any.value.length) w.bytes(2, d.any.value);
    }
  }
  if (res.payload.length) w.bytes(2, res.payload);
  return w.buf;
}
