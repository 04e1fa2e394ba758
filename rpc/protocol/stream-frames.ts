import { Code, ConnectError } from "@connectrpc/connect";
import { type Msg, type MsgHdrs, type NatsConnection, headers as natsHeaders } from "nats";
import { FrameKind, HeaderName, isFrameKind, readHeader } from "./headers.js";

/** One streaming frame as received, with its protocol headers read and checked. */
export interface ReceivedFrame {
  readonly kind: FrameKind;
  /** Sequence number of data/end frames (and of the last data frame, on ping frames). */
  readonly seq: number | undefined;
  readonly msg: Msg;
}

const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/** Reads a frame's kind and sequence number; a malformed frame is an `invalid_argument` error. */
export function readFrame(msg: Msg): ReceivedFrame | ConnectError {
  const kind = readHeader(msg.headers, HeaderName.frame);
  if (kind === undefined || !isFrameKind(kind)) {
    return new ConnectError(
      `stream frame has ${kind === undefined ? "no" : `an unknown (${JSON.stringify(kind.slice(0, 32))})`} ${HeaderName.frame} header`,
      Code.InvalidArgument,
    );
  }
  const rawSeq = readHeader(msg.headers, HeaderName.seq);
  let seq: number | undefined;
  if (rawSeq !== undefined) {
    seq = /^\d{1,16}$/.test(rawSeq) ? Number(rawSeq) : Number.NaN;
    if (!Number.isSafeInteger(seq) || seq > MAX_SEQ) {
      return new ConnectError(
        `stream frame has a malformed ${HeaderName.seq} header`,
        Code.InvalidArgument,
      );
    }
  }
  const needsSeq = kind === FrameKind.data || kind === FrameKind.end;
  if (needsSeq && seq === undefined) {
    return new ConnectError(`${kind} frame without ${HeaderName.seq}`, Code.InvalidArgument);
  }
  return { kind, seq, msg };
}

/**
 * Checks that data frames of one direction arrive without gaps. NATS keeps the order of one
 * publisher's messages, so a gap means a frame was lost (a slow consumer, a reconnect) and the
 * call cannot go on: the caller gets `unavailable` and may retry.
 */
export class SequenceTracker {
  private next: number;

  constructor(first = 0) {
    this.next = first;
  }

  /** Accepts the frame's sequence number or explains what was lost. */
  accept(frame: ReceivedFrame): ConnectError | undefined {
    if (frame.kind === FrameKind.ping) {
      // A ping carries the sequence number of the sender's last data frame: a lost trailing frame
      // shows up here even when no later data frame comes.
      if (frame.seq !== undefined && frame.seq >= this.next) {
        return lost(this.next, frame.seq + 1);
      }
      return undefined;
    }
    if (frame.seq === undefined) return undefined;
    if (frame.seq !== this.next) return lost(this.next, frame.seq);
    this.next++;
    return undefined;
  }

  /** Sequence number of the last frame accepted, or -1. */
  get last(): number {
    return this.next - 1;
  }
}

function lost(expected: number, got: number): ConnectError {
  return new ConnectError(
    `stream frame ${expected} was lost (next frame received: ${got})`,
    Code.Unavailable,
  );
}

/** Publishes one streaming frame. */
export function publishFrame(
  connection: NatsConnection,
  subject: string,
  kind: FrameKind,
  options: {
    readonly seq?: number;
    readonly body?: Uint8Array;
    readonly headers?: MsgHdrs;
    readonly reply?: string;
  } = {},
): void {
  const headers = options.headers ?? natsHeaders();
  headers.set(HeaderName.frame, kind);
  if (options.seq !== undefined) headers.set(HeaderName.seq, String(options.seq));
  connection.publish(subject, options.body, {
    headers,
    ...(options.reply === undefined ? {} : { reply: options.reply }),
  });
}

/**
 * Liveness of one side of a streaming call: pings the peer when this side has been quiet for a
 * heartbeat interval, and reports the peer gone when nothing arrived for the idle timeout.
 */
export class StreamLiveness {
  private lastHeard = Date.now();
  private lastSent = Date.now();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly options: {
      readonly heartbeatIntervalMs: number;
      readonly idleTimeoutMs: number;
      readonly sendPing: () => void;
      readonly onIdle: (error: ConnectError) => void;
    },
  ) {}

  start(): void {
    const tickMs = Math.max(
      5,
      Math.min(this.options.heartbeatIntervalMs, this.options.idleTimeoutMs) / 2,
    );
    this.timer = setInterval(() => this.tick(), tickMs);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  heard(): void {
    this.lastHeard = Date.now();
  }

  sent(): void {
    this.lastSent = Date.now();
  }

  private tick(): void {
    const now = Date.now();
    if (now - this.lastHeard >= this.options.idleTimeoutMs) {
      this.stop();
      this.options.onIdle(
        new ConnectError(
          `stream peer silent for ${now - this.lastHeard} ms (idle timeout ${this.options.idleTimeoutMs} ms)`,
          Code.Unavailable,
        ),
      );
      return;
    }
    if (now - this.lastSent >= this.options.heartbeatIntervalMs) {
      this.lastSent = now;
      this.options.sendPing();
    }
  }
}
