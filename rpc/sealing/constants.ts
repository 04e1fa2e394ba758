/**
 * The sealed-call format (docs/protocol.md, "Sealed calls"). Changing any of these is a protocol
 * version change: both sides must agree byte for byte.
 */

/** First byte of a sealed request: the format version. */
export const SEALED_FORMAT_VERSION = 1;

/** HPKE suite: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305 (RFC 9180 ids). */
export const HPKE_SUITE = { kemId: 0x0020, kdfId: 0x0001, aeadId: 0x0003 } as const;

/** Length of a key id: the first bytes of SHA-256 of the recipient's raw X25519 public key. */
export const KEY_ID_LENGTH = 8;

/** Length of the HPKE `enc` (an X25519 public key). */
export const ENC_LENGTH = 32;

/** Length of the response nonce: max(Nn, Nk) of ChaCha20-Poly1305, as RFC 9458 §4.4 says. */
export const RESPONSE_NONCE_LENGTH = 32;

/** Label of the HPKE `info`, followed by 0x00 and the sealed subject (binds the addressee). */
export const REQUEST_INFO_LABEL = "vettid-sealed-call-v1";

/** Exporter context for the response secret (RFC 9458 uses "message/bhttp response"). */
export const RESPONSE_EXPORT_LABEL = "vettid-sealed-response-v1";

/**
 * How far a sealed request's `sealed_at_ms` may lie from the server's clock. Requests older than
 * this are refused as possible replays; within it, the request's `enc` is remembered and a second
 * use is refused. Five minutes allows for phone clocks that drift.
 */
export const DEFAULT_REPLAY_WINDOW_MS = 5 * 60_000;

/** How many recent `enc` values the replay cache holds per server (about 20 MB at the limit). */
export const DEFAULT_REPLAY_CACHE_SIZE = 100_000;
