import { ErrorCode } from "../../gen/vettid/vsock/v1/frame_pb.js";
import type { FrameBodyCase } from "./frame-body.js";

/** Options of {@link VsockError}. */
export interface VsockErrorOptions {
  /** The request or frame the error is about; 0 when it concerns the whole connection. */
  readonly correlationId?: bigint;
  /** True when the peer reported it in an ErrorFrame, false when this side detected it. */
  readonly remote?: boolean;
  /** For logs only; never sent to the peer. */
  readonly cause?: unknown;
}

/**
 * The one error type of the vsock transport. `code` is the schema's closed `ErrorCode`, so that an
 * error can be sent to the peer as an ErrorFrame unchanged and one received from it compared
 * directly. `message` is visible to the parent: it names sizes, field numbers and body kinds, never
 * frame content.
 */
export class VsockError extends Error {
  override readonly name: string = "VsockError";
  /** What went wrong. */
  readonly code: ErrorCode;
  /** See {@link VsockErrorOptions.correlationId}. */
  readonly correlationId: bigint;
  /** See {@link VsockErrorOptions.remote}. */
  readonly remote: boolean;

  constructor(code: ErrorCode, message: string, options: VsockErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.correlationId = options.correlationId ?? 0n;
    this.remote = options.remote ?? false;
  }

  /** The code's schema name without its prefix, e.g. `FRAME_TOO_LARGE`, for messages and logs. */
  get codeName(): string {
    return ErrorCode[this.code] ?? `UNKNOWN_${this.code}`;
  }
}

/**
 * What was wrong with received bytes. `too-large`, `zero-length` and `unsupported-version` are
 * fatal (see {@link FrameDecodeError.fatal}); the others concern one frame only.
 */
export type FrameProblem =
  | "too-large"
  | "zero-length"
  | "undecodable"
  | "missing-header"
  | "unsupported-version"
  | "missing-body"
  | "unknown-body";

/** Options of {@link FrameDecodeError}. */
export interface FrameDecodeErrorOptions extends VsockErrorOptions {
  /** The frame's body kind when it could be read, even if its content could not. */
  readonly bodyCase?: FrameBodyCase | undefined;
}

const FATAL: ReadonlySet<FrameProblem> = new Set([
  "too-large",
  "zero-length",
  "unsupported-version",
]);

const CODE: Readonly<Record<FrameProblem, ErrorCode>> = {
  "too-large": ErrorCode.FRAME_TOO_LARGE,
  "zero-length": ErrorCode.MALFORMED_FRAME,
  undecodable: ErrorCode.MALFORMED_FRAME,
  "missing-header": ErrorCode.MALFORMED_FRAME,
  "unsupported-version": ErrorCode.UNSUPPORTED_VERSION,
  "missing-body": ErrorCode.MALFORMED_FRAME,
  "unknown-body": ErrorCode.UNSUPPORTED_BODY,
};

/**
 * Received bytes that are not a frame this side accepts. `correlationId` is the frame's, when its
 * header could be read; `bodyCase` its body kind, when the body's field number could be read.
 */
export class FrameDecodeError extends VsockError {
  override readonly name: string = "FrameDecodeError";
  /** What was wrong. */
  readonly problem: FrameProblem;
  /**
   * True when the connection cannot continue: after a bad length the frame boundaries are lost,
   * and a peer on another protocol version will not send anything this side understands.
   */
  readonly fatal: boolean;
  /** See {@link FrameDecodeErrorOptions.bodyCase}. */
  readonly bodyCase: FrameBodyCase | undefined;

  constructor(problem: FrameProblem, message: string, options: FrameDecodeErrorOptions = {}) {
    super(CODE[problem], message, options);
    this.problem = problem;
    this.fatal = FATAL.has(problem);
    this.bodyCase = options.bodyCase;
  }
}
