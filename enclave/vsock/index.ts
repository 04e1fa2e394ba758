export type { VsockConnectionOptions } from "./connection-options.js";
export { enclaveInboxPrefix } from "./enclave-inbox.js";
export type {
  FrameBody,
  FrameBodyCase,
  FrameHeaderInit,
  RequestBody,
  RequestCase,
  ResponseCase,
  ResponseFrame,
} from "./frame-body.js";
export {
  createFrame,
  errorBody,
  isAnswerCase,
  isRequestCase,
  RESPONSE_CASE,
} from "./frame-body.js";
export type { DecodeResult, FrameCodecOptions } from "./frame-codec.js";
export { encodeFrame, FrameDecoder, parseFrame } from "./frame-codec.js";
export {
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_INBOUND_HIGH_WATER_BYTES,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_REQUEST_TIMEOUT_MS,
  FRAME_PROTOCOL_VERSION,
  LENGTH_PREFIX_BYTES,
  MAX_FRAME_BYTES,
} from "./limits.js";
export type { VsockClientOptions } from "./vsock-client.js";
export { connectVsock } from "./vsock-client.js";
export type { RequestOptions, VsockConnection } from "./vsock-connection.js";
export { createVsockConnection } from "./vsock-connection.js";
export type {
  FrameDecodeErrorOptions,
  FrameProblem,
  VsockErrorOptions,
} from "./vsock-error.js";
export { FrameDecodeError, VsockError } from "./vsock-error.js";
export type { VsockServer, VsockServerOptions } from "./vsock-server.js";
export { listenVsock } from "./vsock-server.js";
