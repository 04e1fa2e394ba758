export * from "./client/index.js";
export { FrameKind, HeaderName } from "./protocol/headers.js";
export {
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_MAX_BUFFERED_FRAMES,
  DEFAULT_QUEUE_GROUP,
  DEFAULT_STREAM_IDLE_TIMEOUT_MS,
  DEFAULT_TIMEOUT_MS,
  PROTOCOL_VERSION,
} from "./protocol/limits.js";
export * from "./sealing/index.js";
export * from "./server/index.js";
export * from "./subject/index.js";
