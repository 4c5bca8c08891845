export { MuxParser, type ParserSink } from "./parser.js";
export {
  DEFAULT_MAX_STREAMS,
  DEFAULT_WINDOW,
  type MuxLink,
  type MuxLogFn,
  MuxSession,
  type MuxSessionOptions,
} from "./session.js";
export { MuxStream } from "./stream.js";
export { encodeHeader, encodeRecord, FrameType, MAGIC, MAX_DATA, PAD, SyncKind } from "./wire.js";
