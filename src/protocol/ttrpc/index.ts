export { type CallOptions, connectTtrpc, TtrpcClient } from "./client.js";
export { Code, codeName } from "./code.js";
export {
  createFrameDecoder,
  DEFAULT_MAX_PAYLOAD,
  encodeFrame,
  Flag,
  type Frame,
  type FrameDecoder,
  HEADER_LENGTH,
  MessageType,
} from "./frame.js";
export { asBytesField, headroomOf, lendHeadroom, REPLY_HEADROOM } from "./headroom.js";
export {
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  type KeyValue,
  type Request,
  type Response,
} from "./messages.js";
export {
  type ByteBudgetLike,
  type CallContext,
  type LogFn,
  type Metadata,
  TtrpcServer,
  type TtrpcServerOptions,
  type UnaryHandler,
} from "./server.js";
export { type AnyMessage, isTtrpcError, type Status, TtrpcError } from "./status.js";
