import type { Duplex } from "node:stream";
import { ErrorCode, type Frame } from "../../gen/vettid/vsock/v1/frame_pb.js";
import {
  milliseconds,
  type ResolvedConnectionOptions,
  resolveConnectionOptions,
  type VsockConnectionOptions,
} from "./connection-options.js";
import {
  createFrame,
  errorBody,
  type FrameBody,
  isAnswerCase,
  isRequestCase,
  RESPONSE_CASE,
  type RequestBody,
  type RequestCase,
  type ResponseFrame,
} from "./frame-body.js";
import { encodeFrame, FrameDecoder } from "./frame-codec.js";
import { InboundQueue } from "./inbound-queue.js";
import { type FrameDecodeError, VsockError } from "./vsock-error.js";

/** Options of {@link VsockConnection.request}. */
export interface RequestOptions {
  /**
   * How long to wait for the response; also sent as the header's `deadline_at_ms`. Default: the
   * connection's `requestTimeoutMs`. `0` waits without limit and sends no deadline.
   */
  readonly timeoutMs?: number;
  /** Abandons the request: it rejects with `signal.reason`, and a late response is dropped. */
  readonly signal?: AbortSignal;
}

/**
 * One vsock connection (parent ↔ enclave supervisor) over any stream socket: a Unix socket locally,
 * vsock in production. Iterating it yields what the peer sends on its own initiative: requests,
 * one-way frames, and ErrorFrames that match no pending request (about one-way frames sent with a
 * correlation id, or with id 0 about the whole connection). Responses to {@link request} never
 * appear there.
 *
 * Iterate it promptly: once `inboundHighWaterBytes` are waiting, the connection stops reading the
 * socket (which stalls the peer, and responses with it) until the reader catches up. Leaving the
 * loop early (`break`, `return`, `throw`) closes the connection, since nothing would read it.
 * The loop ends, without throwing, when the connection closes; `closed` says why.
 */
export interface VsockConnection extends AsyncIterable<Frame> {
  /**
   * Sends a frame as it is. Resolves once the socket has taken it; while the socket's buffer is
   * full, frames wait in order and their promises stay pending, so `await`ing each send keeps a
   * fast sender at the pace of the peer. Rejects a frame the peer would refuse (no header or body,
   * over the size limit) and any frame once the connection is closing.
   */
  send(frame: Frame): Promise<void>;
  /**
   * Sends a request with a fresh correlation id and resolves with the peer's response, checked to
   * be the kind that answers it. Rejects with a VsockError: the peer's ErrorFrame (`remote`),
   * `DEADLINE_EXCEEDED` on timeout, `UNAVAILABLE` when the connection closes first,
   * `UNSUPPORTED_BODY` for the wrong kind of response, a FrameDecodeError (`MALFORMED_FRAME`) for
   * a response that does not decode, `FRAME_TOO_LARGE` for a body over the limit (nothing is
   * sent); or with `signal.reason` when aborted. A TypeError for a body that is not a request.
   */
  request<B extends RequestBody>(
    body: B,
    options?: RequestOptions,
  ): Promise<ResponseFrame<B["case"]>>;
  /**
   * Answers a frame received from the peer with `body` (its response kind, or an ErrorFrame from
   * {@link errorBody}), echoing its correlation id. Sends nothing for a frame with id 0, whose
   * sender wants no reply.
   */
  respond(to: Frame, body: FrameBody): Promise<void>;
  /**
   * A correlation id unused by any pending request, for a one-way frame sent with {@link send}
   * that wants ErrorFrames about it (they then arrive through the iterator).
   */
  nextCorrelationId(): bigint;
  /**
   * Closes gracefully: pending requests fail with `UNAVAILABLE`, frames already handed to `send`
   * are flushed, then the socket is ended (destroyed if the peer has not closed within
   * `closeTimeoutMs`). Resolves when the socket has closed.
   */
  close(): Promise<void>;
  /**
   * Resolves (never rejects) once the socket has closed: with undefined when nothing went wrong,
   * otherwise with what ended it — a fatal bad frame from the peer, a socket error, or the peer's
   * last connection-level ErrorFrame (correlation id 0), in that order of precedence.
   */
  readonly closed: Promise<VsockError | undefined>;
  /** True from the moment the connection starts closing. */
  readonly isClosed: boolean;
  /** Requests waiting for their response. */
  readonly pendingRequests: number;
  /** Bytes of received frames waiting for the reader. */
  readonly bufferedInboundBytes: number;
}

/**
 * Runs the vsock protocol over `socket`, which the connection then owns: it reads it, writes it,
 * and closes it. Every failure stays on this connection.
 */
export function createVsockConnection(
  socket: Duplex,
  options: VsockConnectionOptions = {},
): VsockConnection {
  return new Connection(socket, resolveConnectionOptions(options));
}

/** The largest uint64, after which correlation ids start again at 1. */
const MAX_CORRELATION_ID = 0xffff_ffff_ffff_ffffn;

interface PendingRequest {
  readonly requestCase: RequestCase;
  resolve(frame: Frame): void;
  reject(error: unknown): void;
}

interface QueuedWrite {
  readonly bytes: Uint8Array;
  resolve(): void;
  reject(error: unknown): void;
}

class Connection implements VsockConnection {
  readonly closed: Promise<VsockError | undefined>;
  private readonly decoder: FrameDecoder;
  private readonly inbound: InboundQueue<Frame>;
  private readonly pending = new Map<bigint, PendingRequest>();
  private writes: QueuedWrite[] = [];
  private lastCorrelationId = 0n;
  private state: "open" | "closing" | "closed" = "open";
  /** Why this side closed (a fatal bad frame, a socket error); undefined otherwise. */
  private localReason: VsockError | undefined;
  private socketError: VsockError | undefined;
  /** The peer's last connection-level ErrorFrame (correlation id 0). */
  private peerError: VsockError | undefined;
  private closeTimer: NodeJS.Timeout | undefined;
  /** The reader has fallen `inboundHighWaterBytes` behind. */
  private inboundFull = false;
  /** ErrorFrames answering bad frames wait for the socket, so the peer is not reading them. */
  private answersWaiting = false;
  private resolveClosed: (reason: VsockError | undefined) => void = () => {};

  constructor(
    private readonly socket: Duplex,
    private readonly options: ResolvedConnectionOptions,
  ) {
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    this.decoder = new FrameDecoder({ maxFrameBytes: options.maxFrameBytes });
    this.inbound = new InboundQueue<Frame>(options.inboundHighWaterBytes, {
      pause: () => {
        this.inboundFull = true;
        this.updateReading();
      },
      resume: () => {
        this.inboundFull = false;
        this.updateReading();
      },
      abandoned: () => void this.close(),
    });
    socket.on("data", (chunk: Uint8Array) => this.onData(chunk));
    socket.on("drain", () => this.pump());
    socket.on("end", () => this.shutdown("closed by the peer"));
    socket.on("error", (error: Error) => {
      this.socketError ??= new VsockError(
        ErrorCode.UNAVAILABLE,
        `vsock socket failed: ${error.message}`,
        { cause: error },
      );
    });
    socket.on("close", () => this.onClose());
    if (socket.destroyed) queueMicrotask(() => this.onClose());
  }

  get isClosed(): boolean {
    return this.state !== "open";
  }

  get pendingRequests(): number {
    return this.pending.size;
  }

  get bufferedInboundBytes(): number {
    return this.inbound.bufferedBytes;
  }

  [Symbol.asyncIterator](): AsyncIterator<Frame> {
    return this.inbound[Symbol.asyncIterator]();
  }

  send(frame: Frame): Promise<void> {
    if (this.state !== "open") return Promise.reject(this.closedError("cannot send"));
    let bytes: Uint8Array;
    try {
      bytes = encodeFrame(frame, { maxFrameBytes: this.options.maxFrameBytes });
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.writes.push({ bytes, resolve, reject });
      this.pump();
    });
  }

  request<B extends RequestBody>(
    body: B,
    options: RequestOptions = {},
  ): Promise<ResponseFrame<B["case"]>> {
    const requestCase = body.case;
    if (!isRequestCase(requestCase)) {
      return Promise.reject(
        new TypeError(
          `request() sends ${Object.keys(RESPONSE_CASE).join(", ")}; got ${String(requestCase)} (use send() for one-way frames, respond() for answers)`,
        ),
      );
    }
    let timeoutMs: number;
    try {
      timeoutMs =
        options.timeoutMs === undefined
          ? this.options.requestTimeoutMs
          : milliseconds("timeoutMs", options.timeoutMs);
    } catch (error) {
      return Promise.reject(error);
    }
    const { signal } = options;
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    if (this.state !== "open")
      return Promise.reject(this.closedError(`cannot send ${requestCase}`));

    const correlationId = this.nextCorrelationId();
    const deadlineAtMs = timeoutMs > 0 ? BigInt(Date.now() + timeoutMs) : 0n;
    return new Promise<ResponseFrame<B["case"]>>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => finish(() => reject(signal?.reason));
      const finish = (settle: () => void) => {
        if (this.pending.get(correlationId) !== entry) return;
        this.pending.delete(correlationId);
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        settle();
      };
      const entry: PendingRequest = {
        requestCase,
        resolve: (frame) => finish(() => resolve(frame as ResponseFrame<B["case"]>)),
        reject: (error) => finish(() => reject(error)),
      };
      this.pending.set(correlationId, entry);
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          entry.reject(
            new VsockError(
              ErrorCode.DEADLINE_EXCEEDED,
              `no response to ${requestCase} (correlation id ${correlationId}) within ${timeoutMs} ms`,
              { correlationId },
            ),
          );
        }, timeoutMs);
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      this.send(createFrame(body, { correlationId, deadlineAtMs })).catch(entry.reject);
    });
  }

  respond(to: Frame, body: FrameBody): Promise<void> {
    const toCase = to.body.case;
    if (isAnswerCase(toCase)) {
      return Promise.reject(new TypeError(`a ${toCase} frame is an answer and is not answered`));
    }
    if (body.case !== "error" && !(isRequestCase(toCase) && RESPONSE_CASE[toCase] === body.case)) {
      return Promise.reject(
        new TypeError(
          `${String(toCase)} is answered with ${isRequestCase(toCase) ? `${RESPONSE_CASE[toCase]} or ` : ""}an ErrorFrame, not ${body.case}`,
        ),
      );
    }
    const correlationId = to.header?.correlationId ?? 0n;
    if (correlationId === 0n) return Promise.resolve();
    return this.send(createFrame(body, { correlationId }));
  }

  nextCorrelationId(): bigint {
    let id = this.lastCorrelationId;
    do {
      id = id === MAX_CORRELATION_ID ? 1n : id + 1n;
    } while (this.pending.has(id));
    this.lastCorrelationId = id;
    return id;
  }

  close(): Promise<void> {
    this.shutdown("closed by this side");
    return this.closed.then(() => undefined);
  }

  /** Hands queued frames to the socket, in order, for as long as it takes them without buffering. */
  private pump(): void {
    while (this.writes.length > 0 && !this.socket.writableNeedDrain && this.state === "open") {
      const write = this.writes.shift() as QueuedWrite;
      this.socket.write(write.bytes);
      write.resolve();
    }
    if (this.answersWaiting && this.writes.length === 0) {
      this.answersWaiting = false;
      this.updateReading();
    }
  }

  /**
   * Reads the socket unless the reader is behind or this side's answers to bad frames are backed
   * up: those answers are sent by the connection itself, so without this a peer that floods bad
   * frames and reads nothing would grow the write queue without end.
   */
  private updateReading(): void {
    if (this.state !== "open") return;
    if (this.inboundFull || this.answersWaiting) this.socket.pause();
    else this.socket.resume();
  }

  private onData(chunk: Uint8Array): void {
    // Once closing, what still arrives is only read to see the peer's end of the stream.
    if (this.state !== "open") return;
    for (const result of this.decoder.push(chunk)) {
      if (this.state !== "open") return;
      if (result.error === undefined) this.onFrame(result.frame, result.size);
      else this.onBadFrame(result.error);
    }
  }

  private onFrame(frame: Frame, size: number): void {
    // parseFrame delivers only frames with a header and a body.
    const correlationId = frame.header?.correlationId ?? 0n;
    const body = frame.body;
    if (body.case === "error") {
      if (correlationId === 0n) {
        this.peerError = new VsockError(
          body.value.code,
          `peer reported ${ErrorCode[body.value.code] ?? body.value.code} for the connection: ${body.value.message}`,
          { remote: true },
        );
      } else if (this.settle(correlationId, frame)) {
        return;
      }
    } else if (isAnswerCase(body.case)) {
      // A response to no pending request: one that arrived after its request timed out or was
      // aborted, or a replay. Nobody is waiting for it, so it is dropped.
      this.settle(correlationId, frame);
      return;
    }
    this.inbound.push(frame, size);
  }

  /** Completes the pending request `correlationId` with `frame`; false when there is none. */
  private settle(correlationId: bigint, frame: Frame): boolean {
    const pending = correlationId === 0n ? undefined : this.pending.get(correlationId);
    if (pending === undefined) return false;
    const { requestCase } = pending;
    const body = frame.body;
    const expected = RESPONSE_CASE[requestCase];
    if (body.case === "error") {
      pending.reject(
        new VsockError(
          body.value.code,
          `peer failed ${requestCase} (correlation id ${correlationId}) with ${ErrorCode[body.value.code] ?? body.value.code}: ${body.value.message}`,
          { correlationId, remote: true },
        ),
      );
    } else if (body.case !== expected) {
      pending.reject(
        new VsockError(
          ErrorCode.UNSUPPORTED_BODY,
          `peer answered ${requestCase} (correlation id ${correlationId}) with ${body.case}; expected ${expected}`,
          { correlationId },
        ),
      );
    } else {
      pending.resolve(frame);
    }
    return true;
  }

  /**
   * A frame the decoder refused. Fatal ones close the connection after telling the peer, with
   * correlation id 0 since the connection as a whole fails. Others are skipped: when the frame's
   * correlation id was readable it is answered, in the direction its body kind gives it — a broken
   * response or ErrorFrame fails our own pending request (answering it would reach the peer as an
   * answer to one of *its* requests), anything else (a request, a one-way frame, an unknown body)
   * gets an ErrorFrame so the peer does not wait for its timeout.
   */
  private onBadFrame(error: FrameDecodeError): void {
    if (error.fatal) {
      this.shutdown(
        `closed after a bad frame (${error.message})`,
        error,
        errorBody(error.code, error.message),
      );
      return;
    }
    this.options.onError(error);
    const { correlationId } = error;
    if (correlationId === 0n) return;
    if (isAnswerCase(error.bodyCase)) {
      this.pending.get(correlationId)?.reject(error);
      return;
    }
    this.send(createFrame(errorBody(error.code, error.message), { correlationId })).catch(() => {
      // The connection closed meanwhile; nobody is left to tell.
    });
    if (this.writes.length > 0) {
      this.answersWaiting = true;
      this.updateReading();
    }
  }

  /**
   * Starts closing: fails pending requests, flushes queued frames (and `notify`, if given), ends
   * the socket and arms the timer that destroys it if the peer does not close its side.
   */
  private shutdown(description: string, reason?: VsockError, notify?: FrameBody): void {
    if (this.state !== "open") return;
    this.state = "closing";
    this.localReason = reason;
    this.failPending(description, reason);
    if (notify !== undefined) {
      const bytes = encodeFrame(createFrame(notify), { maxFrameBytes: this.options.maxFrameBytes });
      this.writes.push({ bytes, resolve: () => {}, reject: () => {} });
    }
    // The socket is ending anyway: what callers handed over goes out without waiting for 'drain'.
    const writes = this.writes;
    this.writes = [];
    for (const write of writes) {
      if (this.socket.destroyed) write.reject(this.closedError("cannot send"));
      else {
        this.socket.write(write.bytes);
        write.resolve();
      }
    }
    this.inbound.end();
    if (this.socket.destroyed) return;
    this.socket.end();
    // Read on (and discard) so that the peer's end of the stream is seen even if we had paused.
    this.socket.resume();
    this.closeTimer = setTimeout(() => this.socket.destroy(), this.options.closeTimeoutMs);
    this.closeTimer.unref();
  }

  private onClose(): void {
    if (this.state === "closed") return;
    const socketError = this.socketError;
    this.shutdown(
      socketError === undefined ? "closed by the peer" : `failed (${socketError.message})`,
      socketError,
    );
    this.state = "closed";
    clearTimeout(this.closeTimer);
    this.resolveClosed(this.localReason ?? this.socketError ?? this.peerError);
  }

  private failPending(description: string, cause: VsockError | undefined): void {
    for (const [correlationId, pending] of [...this.pending]) {
      pending.reject(
        new VsockError(
          ErrorCode.UNAVAILABLE,
          `no response to ${pending.requestCase} (correlation id ${correlationId}): connection ${description}`,
          { correlationId, cause: cause ?? this.peerError },
        ),
      );
    }
  }

  private closedError(what: string): VsockError {
    return new VsockError(ErrorCode.UNAVAILABLE, `${what}: the vsock connection is closed`, {
      cause: this.localReason ?? this.socketError ?? this.peerError,
    });
  }
}
