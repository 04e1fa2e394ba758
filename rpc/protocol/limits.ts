/** Version of the Connect-over-NATS protocol this code speaks (docs/protocol.md). */
export const PROTOCOL_VERSION = "1";

/**
 * Deadline for calls that set none. Every call has one, so a lost reply can never hang a caller;
 * 30 s is longer than any vault operation takes, including a cold start.
 */
export const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * How long a streaming call may go without any frame from the peer (data or ping) before it ends
 * with `unavailable`. Three heartbeat intervals: one lost ping does not end a healthy call.
 */
export const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 30_000;

/** How often an idle side of a streaming call sends a ping frame. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 10_000;

/**
 * How many frames a receiver buffers for a reader that is not keeping up before it fails the call
 * with `resource_exhausted` (the protocol's flow control). At 64 KiB frames that is 64 MiB at most.
 */
export const DEFAULT_MAX_BUFFERED_FRAMES = 1024;

/** Queue group servers join for first messages, so that several instances share the load. */
export const DEFAULT_QUEUE_GROUP = "vettid-rpc";

/** The NATS services protocol's limit on service and endpoint names. */
export const SERVICE_NAME_PATTERN = /^[-\w]+$/;
