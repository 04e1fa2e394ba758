import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { ErrorCode, type Frame, FrameSchema } from "../../gen/vettid/vsock/v1/frame_pb.js";
import { bodyCaseOfField, type FrameBodyCase } from "./frame-body.js";
import { salvageFrame } from "./frame-salvage.js";
import {
  DEFAULT_MAX_FRAME_BYTES,
  FRAME_PROTOCOL_VERSION,
  LENGTH_PREFIX_BYTES,
  MAX_FRAME_BYTES,
} from "./limits.js";
import { FrameDecodeError, VsockError } from "./vsock-error.js";

/** Options of {@link encodeFrame} and {@link FrameDecoder}. */
export interface FrameCodecOptions {
  /** Largest `Frame` encoding, in bytes, built or accepted; see {@link DEFAULT_MAX_FRAME_BYTES}. */
  readonly maxFrameBytes?: number;
}

/** Checks `maxFrameBytes` and fills in its default. */
export function resolveMaxFrameBytes(maxFrameBytes: number | undefined): number {
  const value = maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_FRAME_BYTES) {
    throw new RangeError(
      `maxFrameBytes must be an integer from 1 to ${MAX_FRAME_BYTES} (the schema's maximum), got ${value}`,
    );
  }
  return value;
}

/**
 * A frame as it goes on the stream: the 4-byte big-endian length, then the `Frame` bytes. Refuses
 * (with a VsockError naming the problem) what the receiver would refuse: a frame without a header
 * or body, or larger than the limit, so that a too-large object fails its own request instead of
 * the peer closing the connection.
 */
export function encodeFrame(frame: Frame, options: FrameCodecOptions = {}): Uint8Array {
  const maxFrameBytes = resolveMaxFrameBytes(options.maxFrameBytes);
  const correlationId = frame.header?.correlationId ?? 0n;
  if (frame.header === undefined) {
    throw new VsockError(ErrorCode.MALFORMED_FRAME, "frame to send has no header");
  }
  if (frame.body.case === undefined) {
    throw new VsockError(ErrorCode.MALFORMED_FRAME, "frame to send has no body", {
      correlationId,
    });
  }
  const bytes = toBinary(FrameSchema, frame);
  if (bytes.length > maxFrameBytes) {
    throw new VsockError(
      ErrorCode.FRAME_TOO_LARGE,
      `${frame.body.case} frame of ${bytes.length} bytes exceeds the maximum of ${maxFrameBytes} bytes`,
      { correlationId },
    );
  }
  const out = new Uint8Array(LENGTH_PREFIX_BYTES + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length, false);
  out.set(bytes, LENGTH_PREFIX_BYTES);
  return out;
}

/** One thing found in the stream: a frame (with its size without the prefix) or a bad frame. */
export type DecodeResult =
  | { readonly frame: Frame; readonly size: number; readonly error?: undefined }
  | { readonly error: FrameDecodeError; readonly frame?: undefined };

/**
 * The first allocation for a frame that spans chunks; it doubles up to the announced length as
 * bytes arrive. Memory follows what the peer has actually sent, so announcing 16 MiB and sending
 * nothing more costs 64 KiB (one socket read), not 16 MiB.
 */
const INITIAL_BODY_CAPACITY = 64 * 1024;

/**
 * Turns a byte stream cut at arbitrary places back into frames. Feed it every chunk in order with
 * {@link push}; it returns what the chunk completed.
 *
 * After a bad frame:
 * - **A bad length** (0, or over the limit) is fatal: the length is checked as soon as its 4 bytes
 *   are in, before any of the body is held, and the decoder then stops for good
 *   ({@link failure}), since nothing tells where the next frame would start. The connection must
 *   report it and close (frame.proto).
 * - **An unsupported protocol version** is fatal too: frame.proto says to answer and close, since
 *   such a peer speaks a protocol this side cannot follow.
 * - **Any other bad frame** (undecodable protobuf, no header, no body, an unknown body) had a
 *   correct length, so the stream is still in step: it is reported and decoding continues with
 *   the next frame. Its correlation id and body kind are salvaged when readable, so the connection
 *   can answer it with an ErrorFrame instead of leaving the peer to time out.
 */
export class FrameDecoder {
  private readonly maxFrameBytes: number;
  private readonly prefix = new Uint8Array(LENGTH_PREFIX_BYTES);
  private prefixFilled = 0;
  /** Length of the frame whose body is being collected; undefined while reading a prefix. */
  private expected: number | undefined;
  private body: Uint8Array | undefined;
  private bodyFilled = 0;
  private fatal: FrameDecodeError | undefined;

  constructor(options: FrameCodecOptions = {}) {
    this.maxFrameBytes = resolveMaxFrameBytes(options.maxFrameBytes);
  }

  /** The fatal error that stopped the decoder, if any; it then ignores further input. */
  get failure(): FrameDecodeError | undefined {
    return this.fatal;
  }

  /** Bytes held for an incomplete frame (prefix included). */
  get bufferedBytes(): number {
    return this.expected === undefined ? this.prefixFilled : LENGTH_PREFIX_BYTES + this.bodyFilled;
  }

  /**
   * Consumes `chunk` and returns the frames and bad frames it completed, in stream order. A fatal
   * error is always the last result, and no results follow it on later calls. Frames that lie
   * wholly inside `chunk` are decoded from it without copying, so their `bytes` fields share its
   * memory; callers must not reuse a chunk's buffer (Node's socket chunks are never reused).
   */
  push(chunk: Uint8Array): DecodeResult[] {
    const results: DecodeResult[] = [];
    let offset = 0;
    while (this.fatal === undefined && offset < chunk.length) {
      if (this.expected === undefined) {
        let length: number;
        if (this.prefixFilled === 0 && chunk.length - offset >= LENGTH_PREFIX_BYTES) {
          length = readLength(chunk, offset);
          offset += LENGTH_PREFIX_BYTES;
        } else {
          const take = Math.min(LENGTH_PREFIX_BYTES - this.prefixFilled, chunk.length - offset);
          this.prefix.set(chunk.subarray(offset, offset + take), this.prefixFilled);
          this.prefixFilled += take;
          offset += take;
          if (this.prefixFilled < LENGTH_PREFIX_BYTES) break;
          this.prefixFilled = 0;
          length = readLength(this.prefix, 0);
        }
        const bad = this.checkLength(length);
        if (bad !== undefined) {
          this.fatal = bad;
          results.push({ error: bad });
          break;
        }
        if (chunk.length - offset >= length) {
          this.emit(results, chunk.subarray(offset, offset + length));
          offset += length;
          continue;
        }
        this.expected = length;
        this.body = new Uint8Array(Math.min(length, INITIAL_BODY_CAPACITY));
        this.bodyFilled = 0;
      }
      const expected = this.expected;
      const take = Math.min(expected - this.bodyFilled, chunk.length - offset);
      this.reserve(this.bodyFilled + take, expected);
      (this.body as Uint8Array).set(chunk.subarray(offset, offset + take), this.bodyFilled);
      this.bodyFilled += take;
      offset += take;
      if (this.bodyFilled === expected) {
        const body = (this.body as Uint8Array).subarray(0, expected);
        this.expected = undefined;
        this.body = undefined;
        this.bodyFilled = 0;
        this.emit(results, body);
      }
    }
    return results;
  }

  private checkLength(length: number): FrameDecodeError | undefined {
    if (length === 0) {
      return new FrameDecodeError(
        "zero-length",
        "frame length is 0; a frame holds at least a header and a body",
      );
    }
    if (length > this.maxFrameBytes) {
      return new FrameDecodeError(
        "too-large",
        `frame length ${length} exceeds the maximum of ${this.maxFrameBytes} bytes`,
      );
    }
    return undefined;
  }

  /** Grows the body buffer (doubling) so that it holds `needed` bytes, never beyond `limit`. */
  private reserve(needed: number, limit: number): void {
    const body = this.body as Uint8Array;
    if (needed <= body.length) return;
    let capacity = body.length;
    while (capacity < needed) capacity *= 2;
    const grown = new Uint8Array(Math.min(capacity, limit));
    grown.set(body.subarray(0, this.bodyFilled));
    this.body = grown;
  }

  private emit(results: DecodeResult[], bytes: Uint8Array): void {
    const result = parseFrame(bytes);
    if (result.error?.fatal === true) this.fatal = result.error;
    results.push(result);
  }
}

function readLength(bytes: Uint8Array, offset: number): number {
  const [b0 = 0, b1 = 0, b2 = 0, b3 = 0] = bytes.subarray(offset, offset + LENGTH_PREFIX_BYTES);
  return ((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0;
}

/**
 * Decodes the bytes of one `Frame` (without its length prefix) and checks what the transport
 * relies on: a header of this side's protocol version and a body this side knows.
 */
export function parseFrame(bytes: Uint8Array): DecodeResult {
  let frame: Frame;
  try {
    frame = fromBinary(FrameSchema, bytes);
  } catch (error) {
    const salvaged = salvageFrame(bytes);
    const version = salvaged.header?.protocolVersion;
    const correlationId = salvaged.header?.correlationId ?? 0n;
    const bodyCase =
      salvaged.bodyField === undefined ? undefined : bodyCaseOfField(salvaged.bodyField);
    // A frame from a peer on another version may well not decode as this version's Frame.
    if (version !== undefined && version !== FRAME_PROTOCOL_VERSION) {
      return { error: unsupportedVersion(version, correlationId, bodyCase) };
    }
    const reason = error instanceof Error ? error.message : String(error);
    return {
      error: new FrameDecodeError(
        "undecodable",
        `${bodyCase ?? "frame"} of ${bytes.length} bytes is not a valid vettid.vsock.v1.Frame: ${reason}`,
        { correlationId, bodyCase, cause: error },
      ),
    };
  }
  const header = frame.header;
  const bodyCase = frame.body.case;
  if (header === undefined) {
    return {
      error: new FrameDecodeError("missing-header", `${bodyCase ?? "frame"} has no header`, {
        bodyCase,
      }),
    };
  }
  const correlationId = header.correlationId;
  if (header.protocolVersion !== FRAME_PROTOCOL_VERSION) {
    return { error: unsupportedVersion(header.protocolVersion, correlationId, bodyCase) };
  }
  if (bodyCase === undefined) {
    const unknown = frame.$unknown?.map((field) => field.no);
    if (unknown !== undefined && unknown.length > 0) {
      return {
        error: new FrameDecodeError(
          "unknown-body",
          `frame body is field ${unknown.join(", ")}, unknown to this side`,
          { correlationId },
        ),
      };
    }
    return {
      error: new FrameDecodeError("missing-body", "frame has no body", { correlationId }),
    };
  }
  return { frame, size: bytes.length };
}

function unsupportedVersion(
  version: number,
  correlationId: bigint,
  bodyCase: FrameBodyCase | undefined,
): FrameDecodeError {
  return new FrameDecodeError(
    "unsupported-version",
    `frame has protocol_version ${version}; this side supports ${FRAME_PROTOCOL_VERSION}`,
    { correlationId, bodyCase },
  );
}
