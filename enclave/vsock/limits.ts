/** The `FrameHeader.protocol_version` this code speaks (frame.proto: "this schema is version 1"). */
export const FRAME_PROTOCOL_VERSION = 1;

/** Size of the big-endian unsigned length that precedes every frame on the stream. */
export const LENGTH_PREFIX_BYTES = 4;

/**
 * The largest frame the schema allows: 16 MiB of `Frame` bytes, not counting the length prefix
 * (frame.proto, MAX_FRAME_SIZE). No side may send or accept more.
 */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

/**
 * Largest frame a receiver accepts and a sender builds: the schema's own limit, so that a stored
 * object or NATS payload the peer may legitimately send is never refused. Lower it only where both
 * sides agree (tests, or a peer known to send less).
 */
export const DEFAULT_MAX_FRAME_BYTES = MAX_FRAME_BYTES;

/**
 * How long a request waits for its response when the caller gives no timeout. Every request has
 * one, so a frame the parent drops can never hang the enclave; 30 s matches the RPC layer's
 * default deadline (rpc/protocol/limits.ts), longer than any storage or KMS call takes.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * Received frames held for a reader that has not taken them yet before the connection stops
 * reading the socket (and the peer's writes stall, which is the stream's flow control). Reading
 * resumes once the reader has taken half of it. 4 MiB keeps the pipe busy with thousands of small
 * NATS messages while bounding what a slow reader costs per connection; a single frame larger
 * than this is still accepted.
 */
export const DEFAULT_INBOUND_HIGH_WATER_BYTES = 4 * 1024 * 1024;

/**
 * How long `close()` waits for the peer to close its side after ours was ended (queued frames
 * flushed, FIN sent) before destroying the socket, so a peer that never reads cannot keep a
 * closing connection open. 5 s is ample for flushing a few 16 MiB frames over vsock.
 */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;

/**
 * How long `connectVsock` waits for the socket to connect. A Unix or vsock socket either connects
 * at once or is refused; 5 s only covers a supervisor that is still starting its listener.
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
