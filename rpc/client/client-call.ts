import { Code, ConnectError } from "@connectrpc/connect";
import {
  createAsyncIterable,
  type UniversalClientRequest,
  type UniversalClientResponse,
} from "@connectrpc/connect/protocol";
import { errorFromJsonBytes } from "@connectrpc/connect/protocol-connect";
import { type Msg, type MsgHdrs, type NatsConnection, headers as natsHeaders } from "nats";
import { isNoRespondersStatus, noResponders, sendFailure } from "../protocol/errors.js";
import { FrameQueue } from "../protocol/frame-queue.js";
import {
  FrameKind,
  fromHeaderLines,
  fromNatsHeaders,
  HeaderName,
  headerLines,
  readHeader,
  toNatsHeaders,
} from "../protocol/headers.js";
import { readBody } from "../protocol/read-body.js";
import {
  publishFrame,
  readFrame,
  SequenceTracker,
  StreamLiveness,
} from "../protocol/stream-frames.js";
import type { ClientSealedCall, RequestSealer } from "../sealing/index.js";
import type { ConnectionState } from "./connection-state.js";
import type { ReplyInbox } from "./reply-inbox.js";

/** Where and how one call goes, resolved by the transport from the method's route. */
export interface CallTarget {
  readonly connection: NatsConnection;
  readonly state: ConnectionState;
  readonly inbox: ReplyInbox;
  /**
   * Where the first message goes: the method's subject, or for sealed calls the service's sealed
   * subject (variables filled and checked).
   */
  readonly subject: string;
  /** The Connect path (`/package.Service/Method`), carried inside sealed calls. */
  readonly path: string;
  /** Seals the call to the enclave's key; undefined for unsealed calls. */
  readonly sealer: RequestSealer | undefined;
  readonly heartbeatIntervalMs: number;
  readonly idleTimeoutMs: number;
  readonly maxBufferedFrames: number;
}

/** What a response message said, once opened (sealed) or read (plain). */
interface ResponseContent {
  readonly status: number;
  readonly header: Headers;
  readonly body: Uint8Array;
}

const UNARY_KIND = "unary";

/** Sends a unary call as one NATS message and waits for the one reply. */
export async function unaryCall(
  request: UniversalClientRequest,
  target: CallTarget,
): Promise<UniversalClientResponse> {
  if (target.state.down) throw unavailable();
  if (target.inbox.failure !== undefined) throw target.inbox.failure;
  const body = await readBody(request.body);
  const signal = request.signal;
  signal?.throwIfAborted();

  let payload = body;
  let headers: MsgHdrs;
  let sealed: ClientSealedCall | undefined;
  if (target.sealer !== undefined) {
    const result = await target.sealer.seal(target.subject, UNARY_KIND, {
      path: target.path,
      headers: headerLines(request.header),
      body,
      sealedAtMs: BigInt(Date.now()),
    });
    payload = result.payload;
    sealed = result.call;
    headers = natsHeaders();
    headers.set(HeaderName.sealed, "1");
  } else {
    headers = toNatsHeaders(request.header);
  }

  const content = await new Promise<Msg>((resolve, reject) => {
    const slot = target.inbox.open(
      (msg) => {
        cleanup();
        if (isNoRespondersStatus(msg.data, msg.headers)) reject(noResponders(target.subject));
        else resolve(msg);
      },
      (error) => {
        cleanup();
        reject(error);
      },
    );
    const onAbort = () => {
      cleanup();
      // Tell whichever instance took the call; they all listen on the cancel subject.
      try {
        const cancel = natsHeaders();
        cancel.set(HeaderName.reason, reasonName(signal?.reason));
        target.connection.publish(`${target.subject}.cancel.${slot.callId}`, undefined, {
          headers: cancel,
        });
      } catch {
        // Connection gone: nothing to tell.
      }
      reject(ConnectError.from(signal?.reason, Code.Canceled));
    };
    const stopWatching = target.state.onDisconnect(() => {
      cleanup();
      reject(unavailable());
    });
    const stopDenials = target.state.onPublishDenied((subject) => {
      if (subject !== target.subject) return;
      cleanup();
      reject(publishDenied(subject));
    });
    function cleanup() {
      slot.close();
      stopWatching();
      stopDenials();
      signal?.removeEventListener("abort", onAbort);
    }
    signal?.addEventListener("abort", onAbort);
    try {
      target.connection.publish(target.subject, payload, { reply: slot.reply, headers });
    } catch (error) {
      cleanup();
      reject(sendFailure(error, "request", payload.length, target.connection));
    }
  }).then((msg) => readResponse(msg, UNARY_KIND, sealed));

  return {
    status: content.status,
    header: content.header,
    body: createAsyncIterable([content.body]),
    trailer: new Headers(),
  };
}

/**
 * Reads a response message: opens it when the call is sealed, or takes status and headers from
 * the NATS headers. A sealed call accepts a plain message only as an error (the server could not
 * open the request, so it could not seal its answer), never as a success.
 */
async function readResponse(
  msg: Msg,
  kind: string,
  sealed: ClientSealedCall | undefined,
): Promise<ResponseContent> {
  if (sealed !== undefined && readHeader(msg.headers, HeaderName.sealed) === "1") {
    const content = await sealed.open(kind, msg.data);
    return { status: content.status, header: fromHeaderLines(content.headers), body: content.body };
  }
  const status = Number(readHeader(msg.headers, HeaderName.status));
  if (!Number.isInteger(status)) {
    throw new ConnectError(`reply without a valid ${HeaderName.status} header`, Code.Internal);
  }
  if (sealed !== undefined && status === 200) {
    throw new ConnectError("a sealed call got an unsealed success reply", Code.Internal);
  }
  return { status, header: fromNatsHeaders(msg.headers), body: msg.data };
}

/**
 * Runs a streaming call: an `open` frame to the method subject (through the queue group), then
 * sequenced frames to the subject the serving instance acknowledged with, pings both ways while
 * idle, and `end` from each side. Request frames written before the acknowledgement wait for it.
 */
export function streamCall(
  request: UniversalClientRequest,
  target: CallTarget,
): Promise<UniversalClientResponse> {
  if (target.state.down) return Promise.reject(unavailable());
  if (target.inbox.failure !== undefined) return Promise.reject(target.inbox.failure);
  return new ClientStream(request, target).start();
}

class ClientStream {
  private continueAt: string | undefined;
  private readonly waitingForAck: { kind: FrameKind; body: Uint8Array; seq: number }[] = [];
  private sentSeq = 1;
  private readonly received = new SequenceTracker(0);
  private readonly responseBody: FrameQueue<Uint8Array>;
  private readonly liveness: StreamLiveness;
  private resolve!: (response: UniversalClientResponse) => void;
  private reject!: (error: unknown) => void;
  private responded = false;
  private ended = false;
  private failed = false;
  private sealed: ClientSealedCall | undefined;
  /** Sealed response frames are opened one after another, in arrival order. */
  private incoming: Promise<void> = Promise.resolve();
  private readonly slot: ReturnType<ReplyInbox["open"]>;
  private readonly stopWatching: () => void;
  private readonly stopDenials: () => void;

  constructor(
    private readonly request: UniversalClientRequest,
    private readonly target: CallTarget,
  ) {
    this.responseBody = new FrameQueue(target.maxBufferedFrames);
    this.slot = target.inbox.open(
      (msg) => this.onMessage(msg),
      (error) => this.fail(error, false),
    );
    this.stopWatching = target.state.onDisconnect(() => this.fail(unavailable(), false));
    this.stopDenials = target.state.onPublishDenied((subject) => {
      if (subject === target.subject || subject === this.continueAt) {
        this.fail(publishDenied(subject), false);
      }
    });
    this.liveness = new StreamLiveness({
      heartbeatIntervalMs: target.heartbeatIntervalMs,
      idleTimeoutMs: target.idleTimeoutMs,
      sendPing: () => {
        const continueAt = this.continueAt;
        if (continueAt === undefined) return;
        this.publish(() =>
          publishFrame(target.connection, continueAt, FrameKind.ping, { seq: this.sentSeq - 1 }),
        );
      },
      onIdle: (error) => this.fail(error, true),
    });
  }

  start(): Promise<UniversalClientResponse> {
    const promise = new Promise<UniversalClientResponse>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.request.signal?.addEventListener("abort", this.onAbort);
    this.liveness.start();
    this.pump().catch((error: unknown) => this.fail(ConnectError.from(error, Code.Internal), true));
    return promise;
  }

  /** Sends the request body: the first chunk opens the call; a body that ends at once says so. */
  private async pump(): Promise<void> {
    const iterator = (this.request.body ?? createAsyncIterable<Uint8Array>([]))[
      Symbol.asyncIterator
    ]();
    const first = await iterator.next();
    if (first.done) {
      await this.open(FrameKind.openEnd, new Uint8Array(0));
      return;
    }
    // A server-streaming request is one message and then the end: send both in the open frame.
    let pending = iterator.next();
    const settled = await Promise.race([pending, nextTurn()]);
    if (settled?.done === true) {
      await this.open(FrameKind.openEnd, first.value);
      return;
    }
    await this.open(FrameKind.open, first.value);
    if (settled !== undefined) {
      await this.send(FrameKind.data, settled.value);
      pending = iterator.next();
    }
    for (;;) {
      if (this.failed || this.ended) {
        await iterator.return?.();
        return;
      }
      const next = await pending;
      if (this.failed) return;
      if (next.done) {
        await this.send(FrameKind.end, new Uint8Array(0));
        return;
      }
      await this.send(FrameKind.data, next.value);
      pending = iterator.next();
    }
  }

  private async open(kind: FrameKind, body: Uint8Array): Promise<void> {
    let payload = body;
    let headers: MsgHdrs;
    if (this.target.sealer !== undefined) {
      const result = await this.target.sealer.seal(this.target.subject, kind, {
        path: this.target.path,
        headers: headerLines(this.request.header),
        body,
        sealedAtMs: BigInt(Date.now()),
      });
      this.sealed = result.call;
      payload = result.payload;
      headers = natsHeaders();
      headers.set(HeaderName.sealed, "1");
    } else {
      headers = toNatsHeaders(this.request.header);
    }
    if (this.failed) return;
    this.publish(
      () =>
        publishFrame(this.target.connection, this.target.subject, kind, {
          body: payload,
          headers,
          reply: this.slot.reply,
        }),
      payload.length,
    );
  }

  private async send(kind: FrameKind, body: Uint8Array): Promise<void> {
    const seq = this.sentSeq++;
    const payload = this.sealed === undefined ? body : await this.sealed.seal(kind, { body });
    if (this.failed) return;
    if (this.continueAt === undefined) {
      this.waitingForAck.push({ kind, body: payload, seq });
      return;
    }
    this.publishFrame(this.continueAt, kind, seq, payload);
  }

  private publishFrame(subject: string, kind: FrameKind, seq: number, payload: Uint8Array): void {
    const headers = natsHeaders();
    if (this.sealed !== undefined) headers.set(HeaderName.sealed, "1");
    this.publish(
      () => publishFrame(this.target.connection, subject, kind, { seq, body: payload, headers }),
      payload.length,
    );
  }

  private onMessage(msg: Msg): void {
    if (this.failed) return;
    this.liveness.heard();
    if (this.sealed === undefined) {
      void this.handle(msg);
      return;
    }
    this.incoming = this.incoming.then(() => this.handle(msg));
  }

  private async handle(msg: Msg): Promise<void> {
    if (this.failed || this.ended) return;
    try {
      await this.handleMessage(msg);
    } catch (error) {
      this.fail(ConnectError.from(error, Code.Internal), true);
    }
  }

  private async handleMessage(msg: Msg): Promise<void> {
    if (isNoRespondersStatus(msg.data, msg.headers)) {
      this.fail(noResponders(this.target.subject), false);
      return;
    }
    if (readHeader(msg.headers, HeaderName.frame) === undefined) {
      // The server refused the call before it began (unknown method, bad request): a unary-style
      // error response with a Connect error JSON body.
      this.fail(refusal(await readResponse(msg, UNARY_KIND, this.sealed)), false);
      return;
    }
    const frame = readFrame(msg);
    if (frame instanceof ConnectError) {
      this.fail(frame, true);
      return;
    }
    const gap = this.received.accept(frame);
    if (gap !== undefined) {
      this.fail(gap, true);
      return;
    }
    switch (frame.kind) {
      case FrameKind.ack:
        this.onAck(msg);
        return;
      case FrameKind.data:
      case FrameKind.end: {
        const content =
          this.sealed === undefined
            ? this.plainContent(msg)
            : await this.openSealed(this.sealed, frame.kind, msg);
        if (this.failed) return;
        if (!this.responded) {
          if (!Number.isInteger(content.status) || content.status === 0) {
            this.fail(
              new ConnectError(`first response frame without ${HeaderName.status}`, Code.Internal),
              true,
            );
            return;
          }
          this.responded = true;
          this.resolve({
            status: content.status,
            header: content.header,
            body: this.responseBody,
            trailer: new Headers(),
          });
        }
        if (content.body.length > 0) this.responseBody.push(content.body);
        if (frame.kind === FrameKind.end) {
          this.ended = true;
          this.responseBody.end();
          this.cleanup();
        }
        return;
      }
      case FrameKind.cancel: {
        const reason = readHeader(msg.headers, HeaderName.reason);
        const text =
          readHeader(msg.headers, HeaderName.natsServiceError) ?? "the server ended the call";
        const code =
          reason !== undefined && reason in Code ? Code[reason as keyof typeof Code] : Code.Aborted;
        this.fail(new ConnectError(text, code), false);
        return;
      }
      case FrameKind.ping:
        return;
      default:
        this.fail(
          new ConnectError(`unexpected ${frame.kind} frame from the server`, Code.Internal),
          true,
        );
    }
  }

  private onAck(msg: Msg): void {
    const continueAt = readHeader(msg.headers, HeaderName.continueAt);
    if (continueAt === undefined || !continueAt.startsWith(`${this.target.subject}.`)) {
      this.fail(
        new ConnectError(`ack without a valid ${HeaderName.continueAt}`, Code.Internal),
        false,
      );
      return;
    }
    this.continueAt = continueAt;
    for (const queued of this.waitingForAck.splice(0)) {
      this.publishFrame(continueAt, queued.kind, queued.seq, queued.body);
    }
  }

  /** Status (first frame), headers (first frame) and body of a sealed data or end frame. */
  private async openSealed(
    sealed: ClientSealedCall,
    kind: FrameKind,
    msg: Msg,
  ): Promise<ResponseContent> {
    const content = await sealed.open(kind, msg.data);
    return { status: content.status, header: fromHeaderLines(content.headers), body: content.body };
  }

  /**
   * The same for a plain frame, read synchronously: unsealed frames are handled in the NATS
   * callback itself, so their order cannot change.
   */
  private plainContent(msg: Msg): ResponseContent {
    return {
      status: this.responded ? 200 : Number(readHeader(msg.headers, HeaderName.status)),
      header: this.responded ? new Headers() : fromNatsHeaders(msg.headers),
      body: msg.data,
    };
  }

  private readonly onAbort = () => {
    if (this.ended || this.failed) {
      this.cleanup();
      return;
    }
    this.fail(ConnectError.from(this.request.signal?.reason, Code.Canceled), true);
  };

  /** Ends the call with `error`; tells the server unless the server is the one that ended it. */
  private fail(error: ConnectError, tellServer: boolean): void {
    if (this.failed || this.ended) return;
    this.failed = true;
    if (tellServer) {
      const headers = natsHeaders();
      headers.set(HeaderName.reason, Code[error.code]);
      const subject = this.continueAt ?? `${this.target.subject}.cancel.${this.slot.callId}`;
      this.publish(() =>
        publishFrame(this.target.connection, subject, FrameKind.cancel, { headers }),
      );
    }
    if (this.responded) this.responseBody.fail(error);
    else this.reject(error);
    this.cleanup();
  }

  private publish(send: () => void, size = 0): void {
    try {
      send();
      this.liveness.sent();
    } catch (error) {
      if (!this.failed)
        this.fail(sendFailure(error, "request", size, this.target.connection), false);
    }
  }

  private cleanup(): void {
    this.liveness.stop();
    this.slot.close();
    this.stopWatching();
    this.stopDenials();
    this.request.signal?.removeEventListener("abort", this.onAbort);
  }
}

/** The Connect error in a refusal (a unary-style error response). */
function refusal(content: ResponseContent): ConnectError {
  const fallback = new ConnectError(`call refused (status ${content.status})`, Code.Unknown);
  try {
    return errorFromJsonBytes(content.body, content.header, fallback);
  } catch (error) {
    return ConnectError.from(error);
  }
}

function publishDenied(subject: string): ConnectError {
  return new ConnectError(
    `NATS does not allow this connection to publish to ${subject}`,
    Code.PermissionDenied,
  );
}

function unavailable(): ConnectError {
  return new ConnectError("NATS connection is down", Code.Unavailable);
}

function reasonName(reason: unknown): string {
  return reason instanceof ConnectError ? Code[reason.code] : Code[Code.Canceled];
}

/** Resolves on the next turn of the event loop (after pending I/O callbacks), with undefined. */
function nextTurn(): Promise<undefined> {
  return new Promise((resolve) => setImmediate(() => resolve(undefined)));
}
