import { Code, ConnectError, createContextValues } from "@connectrpc/connect";
import {
  createAsyncIterable,
  type UniversalHandler,
  type UniversalServerRequest,
  type UniversalServerResponse,
} from "@connectrpc/connect/protocol";
import {
  codeToHttpStatus,
  endStreamFlag,
  endStreamFromJson,
  errorToJsonBytes,
} from "@connectrpc/connect/protocol-connect";
import { type Msg, type MsgHdrs, type NatsConnection, headers as natsHeaders } from "nats";
import { sendFailure, setNatsServiceError } from "../protocol/errors.js";
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
import { PROTOCOL_VERSION } from "../protocol/limits.js";
import { readBody } from "../protocol/read-body.js";
import {
  publishFrame,
  readFrame,
  SequenceTracker,
  StreamLiveness,
} from "../protocol/stream-frames.js";
import type { ServerSealedCall } from "../sealing/index.js";
import type { ResolvedServiceRoute } from "../subject/index.js";
import type { EndpointStats } from "./endpoint-stats.js";
import { checkReplySubject } from "./reply-check.js";
import { subjectValuesKey } from "./subject-values.js";
import type { UnaryHandler } from "./unary-handler.js";

/** What a call needs from the server that runs it. */
export interface CallEnvironment {
  readonly connection: NatsConnection;
  readonly instanceId: string;
  readonly heartbeatIntervalMs: number;
  readonly idleTimeoutMs: number;
  readonly maxBufferedFrames: number;
  /** Routes frames arriving on `subject` to the call until it unregisters. */
  register(subject: string, call: ServerCall): void;
  unregister(subject: string): void;
}

/**
 * The first message of a call as the protocol layer sees it: for sealed calls, the opened content
 * (its headers merged with the outer frame headers), otherwise the NATS message itself.
 */
export interface IncomingRequest {
  /** The subject it arrived on (the method subject, or the sealed subject). */
  readonly subject: string;
  readonly reply?: string | undefined;
  readonly headers?: MsgHdrs | undefined;
  readonly data: Uint8Array;
}

/** The first message of a call and what the server resolved about it. */
export interface CallStart {
  readonly request: IncomingRequest;
  readonly route: ResolvedServiceRoute;
  /** Subject variables, or undefined when a variable's token is not valid. */
  readonly values: Readonly<Record<string, string>> | undefined;
  readonly handler: UniversalHandler | undefined;
  readonly methodName: string;
  readonly stats: EndpointStats | undefined;
  /** The call's sealing state when the request arrived sealed. */
  readonly sealed: ServerSealedCall | undefined;
  readonly onProblem: (problem: string) => void;
  /** Set when the request is refused before it could be read (a sealed request not opened). */
  readonly refusal?: ConnectError;
  /** The unary fast path for this method, when its implementation is known (see unary-handler). */
  readonly unary?: UnaryHandler | undefined;
}

const textDecoder = new TextDecoder();
/** The outer kind of both messages of a unary call (and of refusals), as sealing binds it. */
const UNARY_KIND = "unary";

/**
 * One call on the server, from its first message to its last frame. Unary calls are one message
 * each way; streaming calls are acknowledged with the subject of this instance that later frames
 * go to, and exchange sequenced frames with pings until both sides have ended. Sealed calls carry
 * the same frames with their content sealed (docs/protocol.md).
 */
export class ServerCall {
  private readonly controller = new AbortController();
  private readonly keys: string[] = [];
  private readonly startedNs = process.hrtime.bigint();
  private readonly sealed: ServerSealedCall | undefined;
  private finished = false;
  // Streaming state (unused by unary calls).
  private requestBody: FrameQueue<Uint8Array> | undefined;
  private readonly received = new SequenceTracker(1);
  private liveness: StreamLiveness | undefined;
  private sentSeq = 0;
  /** Sealed request frames are opened one after another, in arrival order. */
  private incoming: Promise<void> = Promise.resolve();

  private constructor(
    private readonly env: CallEnvironment,
    private readonly start: CallStart,
    private readonly reply: string,
  ) {
    this.sealed = start.sealed;
  }

  /** Validates the first message and starts the call; refusals are answered with a Connect error. */
  static start(env: CallEnvironment, start: CallStart): ServerCall | undefined {
    const { request, route, handler, stats } = start;
    const checked = checkReplySubject(route, start.values ?? {}, request.reply);
    if ("problem" in checked) {
      // Nowhere safe to answer: count it and tell the operator, never the (possibly foreign) inbox.
      stats?.refuse(checked.problem);
      start.onProblem(`${request.subject}: ${checked.problem}`);
      return undefined;
    }
    const call = new ServerCall(env, start, request.reply as string);
    if (start.refusal !== undefined) return call.refuse(start.refusal);
    if (start.values === undefined) {
      return call.refuse(
        new ConnectError(
          `subject ${JSON.stringify(request.subject.slice(0, 200))} does not match ${route.subject.source}: a variable is not one valid token`,
          Code.InvalidArgument,
        ),
      );
    }
    if (handler === undefined) {
      return call.refuse(
        new ConnectError(
          `method "${start.methodName.slice(0, 64)}" is not part of ${route.service.typeName}`,
          Code.Unimplemented,
        ),
      );
    }
    const version = readHeader(request.headers, HeaderName.version);
    if (version !== undefined && version !== PROTOCOL_VERSION) {
      return call.refuse(
        new ConnectError(
          `protocol version ${version.slice(0, 16)} is not supported (this server speaks ${PROTOCOL_VERSION})`,
          Code.Unimplemented,
        ),
      );
    }
    const frame = readHeader(request.headers, HeaderName.frame);
    const streaming = handler.method.methodKind !== "unary";
    if (!streaming && frame !== undefined) {
      return call.refuse(
        new ConnectError(
          `${handler.method.name} is unary: its request carries no ${HeaderName.frame} header`,
          Code.InvalidArgument,
        ),
      );
    }
    if (streaming && frame !== FrameKind.open && frame !== FrameKind.openEnd) {
      return call.refuse(
        new ConnectError(
          `${handler.method.name} is a ${handler.method.methodKind.replace("_", " ")} method: its first frame needs ${HeaderName.frame}: open or open-end`,
          Code.InvalidArgument,
        ),
      );
    }
    const callId = call.reply.slice(call.reply.lastIndexOf(".") + 1);
    call.listen(`${request.subject}.cancel.${callId}`);
    if (streaming) call.runStreaming(handler, callId, frame === FrameKind.openEnd);
    else call.runUnary(handler);
    return call;
  }

  /** A later frame of this streaming call, sent to this instance's continuation subject. */
  onFrame(msg: Msg): void {
    if (this.finished) return;
    const frame = readFrame(msg);
    if (frame instanceof ConnectError) {
      this.abort(frame, true);
      return;
    }
    this.liveness?.heard();
    if (this.sealed === undefined) {
      this.handleFrame(frame.kind, frame.seq, msg, msg.data);
      return;
    }
    const sealed = this.sealed;
    this.incoming = this.incoming.then(async () => {
      if (this.finished) return;
      let body = msg.data;
      if (frame.kind === FrameKind.data || frame.kind === FrameKind.end) {
        try {
          body = (await sealed.open(frame.kind, msg.data)).body;
        } catch (error) {
          this.abort(ConnectError.from(error, Code.InvalidArgument), true);
          return;
        }
      }
      this.handleFrame(frame.kind, frame.seq, msg, body);
    });
  }

  /** A cancellation sent to the broadcast cancel subject (the client did not know this instance). */
  onCancel(msg: Msg): void {
    this.abort(this.cancelReason(msg), false);
  }

  /**
   * Ends the call: aborts the handler's signal and, when `tellClient` is set, sends the client a
   * cancel frame (streams) or an error response (unary) so it does not wait for its deadline.
   */
  abort(error: ConnectError, tellClient: boolean): void {
    if (this.finished) return;
    this.controller.abort(error);
    this.requestBody?.fail(error);
    if (tellClient) {
      if (this.liveness !== undefined) {
        const headers = natsHeaders();
        headers.set(HeaderName.reason, Code[error.code]);
        // A sealed call keeps its error text inside the seal; the reason code travels either way.
        if (this.sealed === undefined) setNatsServiceError(headers, 499, error.rawMessage);
        this.safePublish(() =>
          publishFrame(this.env.connection, this.reply, FrameKind.cancel, { headers }),
        );
      } else {
        this.sendErrorResponse(error);
      }
    }
    this.finish(error.rawMessage);
  }

  private handleFrame(kind: FrameKind, seq: number | undefined, msg: Msg, body: Uint8Array): void {
    const gap = this.received.accept({ kind, seq, msg });
    if (gap !== undefined) {
      this.abort(gap, true);
      return;
    }
    switch (kind) {
      case FrameKind.data:
        this.requestBody?.push(body);
        return;
      case FrameKind.end:
        if (body.length > 0) this.requestBody?.push(body);
        this.requestBody?.end();
        return;
      case FrameKind.cancel:
        this.abort(this.cancelReason(msg), false);
        return;
      case FrameKind.ping:
        return;
      default:
        this.abort(
          new ConnectError(`unexpected ${kind} frame from the client`, Code.InvalidArgument),
          true,
        );
    }
  }

  private refuse(error: ConnectError): undefined {
    this.start.stats?.refuse(error.rawMessage);
    this.finished = true;
    this.sendErrorResponse(error);
    return undefined;
  }

  private runUnary(handler: UniversalHandler): void {
    const header = fromNatsHeaders(this.start.request.headers);
    const contextValues = createContextValues().set(subjectValuesKey, this.start.values ?? {});
    // A plain Uint8Array view: nats.js hands out Buffers, which would leak into `bytes` fields.
    const data = this.start.request.data;
    const fast = this.start.unary?.(
      header,
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      this.controller.signal,
      contextValues,
    );
    const result =
      fast ??
      handler(this.request(handler, createAsyncIterable([this.start.request.data]), header)).then(
        async (response) => ({
          status: response.status,
          header: response.header ?? new Headers(),
          body: await readBody(response.body),
        }),
      );
    result
      .then(({ status, header: responseHeader, body }) => {
        if (this.finished || this.controller.signal.aborted) return;
        if (isBinaryParseFailure(status, body)) {
          // Connect-ES reports an undecodable binary request as `internal` (JSON ones as
          // `invalid_argument`); it is the caller's input that is bad, so say so.
          this.abort(
            new ConnectError(
              `request is not a valid ${handler.method.input.typeName}: ${unaryErrorText(body)}`,
              Code.InvalidArgument,
            ),
            true,
          );
          return;
        }
        const error = status === 200 ? undefined : unaryErrorText(body);
        this.sendUnary(status, responseHeader, body, error);
        this.finish(error);
      })
      .catch((error: unknown) => {
        this.abort(ConnectError.from(error, Code.Internal), true);
      });
  }

  private runStreaming(handler: UniversalHandler, callId: string, requestEnded: boolean): void {
    const continueAt = `${this.start.request.subject}.${this.env.instanceId}.${callId}`;
    this.listen(continueAt);
    this.requestBody = new FrameQueue(this.env.maxBufferedFrames);
    if (this.start.request.data.length > 0) this.requestBody.push(this.start.request.data);
    if (requestEnded) this.requestBody.end();
    this.liveness = new StreamLiveness({
      heartbeatIntervalMs: this.env.heartbeatIntervalMs,
      idleTimeoutMs: this.env.idleTimeoutMs,
      sendPing: () =>
        this.safePublish(() =>
          publishFrame(this.env.connection, this.reply, FrameKind.ping, { seq: this.sentSeq - 1 }),
        ),
      onIdle: (error) => this.abort(error, true),
    });
    const ack = natsHeaders();
    ack.set(HeaderName.continueAt, continueAt);
    this.safePublish(() =>
      publishFrame(this.env.connection, this.reply, FrameKind.ack, { headers: ack }),
    );
    this.liveness.start();

    const request = this.request(handler, this.requestBody);
    handler(request)
      .then((response) => this.sendStream(response))
      .catch((error: unknown) => this.abort(ConnectError.from(error, Code.Internal), true));
  }

  private async sendStream(response: UniversalServerResponse): Promise<void> {
    let first = true;
    let lastChunk: Uint8Array | undefined;
    for await (const chunk of response.body ?? []) {
      if (this.finished) return;
      lastChunk = chunk;
      if (!this.sendStreamFrame(FrameKind.data, first ? response : undefined, chunk, undefined))
        return;
      first = false;
    }
    if (this.finished) return;
    const error = streamErrorText(response.status, lastChunk);
    if (
      !this.sendStreamFrame(FrameKind.end, first ? response : undefined, new Uint8Array(0), error)
    ) {
      return;
    }
    this.finish(error?.message);
  }

  /**
   * Sends one data or end frame; the first carries the status and headers of `head`. Returns
   * false when it could not be sent (the call is then over).
   */
  private sendStreamFrame(
    kind: FrameKind,
    head: UniversalServerResponse | undefined,
    body: Uint8Array,
    error: { status: number; message: string } | undefined,
  ): boolean {
    const seq = this.sentSeq++;
    const headers = natsHeaders();
    let payload = body;
    if (this.sealed !== undefined) {
      headers.set(HeaderName.sealed, "1");
      payload = this.sealed.seal(kind, {
        status: head?.status ?? 0,
        headers: headerLines(head?.header),
        body,
      });
    } else {
      if (head !== undefined) {
        headers.set(HeaderName.status, String(head.status));
        if (head.header !== undefined) toNatsHeaders(head.header, headers);
      }
      if (error !== undefined) setNatsServiceError(headers, error.status, error.message);
    }
    try {
      publishFrame(this.env.connection, this.reply, kind, { seq, body: payload, headers });
      this.liveness?.sent();
      return true;
    } catch (failure) {
      this.abort(sendFailure(failure, "response", payload.length, this.env.connection), true);
      return false;
    }
  }

  /** Sends a unary response (or refusal); sealed calls seal status, headers and body together. */
  private sendUnary(
    status: number,
    header: Headers | undefined,
    body: Uint8Array,
    error?: string,
  ): void {
    const headers = natsHeaders();
    let payload = body;
    if (this.sealed !== undefined) {
      headers.set(HeaderName.sealed, "1");
      payload = this.sealed.seal(UNARY_KIND, { status, headers: headerLines(header), body });
    } else {
      headers.set(HeaderName.status, String(status));
      if (header !== undefined) toNatsHeaders(header, headers);
      if (error !== undefined) setNatsServiceError(headers, status, error);
    }
    try {
      this.env.connection.publish(this.reply, payload, { headers });
    } catch (failure) {
      // A response too large for NATS becomes an error the client can read; an error that cannot
      // be sent leaves the client to its deadline.
      if (error === undefined)
        this.sendErrorResponse(
          sendFailure(failure, "response", payload.length, this.env.connection),
        );
    }
  }

  private sendErrorResponse(error: ConnectError): void {
    const header = new Headers({ "content-type": "application/json" });
    this.sendUnary(
      codeToHttpStatus(error.code),
      header,
      errorToJsonBytes(error, undefined),
      error.rawMessage,
    );
  }

  private request(
    handler: UniversalHandler,
    body: AsyncIterable<Uint8Array>,
    header = fromNatsHeaders(this.start.request.headers),
  ): UniversalServerRequest {
    return {
      httpVersion: "2.0",
      method: "POST",
      url: `nats://rpc${handler.requestPath}`,
      header,
      body,
      signal: this.controller.signal,
      contextValues: createContextValues().set(subjectValuesKey, this.start.values ?? {}),
    };
  }

  /** The client's reason travels as a code name; a passed deadline stays `deadline_exceeded`. */
  private cancelReason(msg: Msg): ConnectError {
    const reason = readHeader(msg.headers, HeaderName.reason);
    const code = reason === Code[Code.DeadlineExceeded] ? Code.DeadlineExceeded : Code.Canceled;
    return new ConnectError(
      `the client ${code === Code.DeadlineExceeded ? "deadline passed" : "cancelled the call"}${reason === undefined ? "" : ` (${reason.slice(0, 32)})`}`,
      code,
    );
  }

  private listen(subject: string): void {
    this.keys.push(subject);
    this.env.register(subject, this);
  }

  private safePublish(send: () => void): void {
    try {
      send();
      this.liveness?.sent();
    } catch {
      // The connection is gone; the client learns from its own side of the connection.
    }
  }

  private finish(error: string | undefined): void {
    if (this.finished) return;
    this.finished = true;
    this.liveness?.stop();
    for (const key of this.keys) this.env.unregister(key);
    this.start.stats?.record(this.startedNs, error);
    // The request signal is not aborted on a normal finish: Connect's own context ends the handler
    // and unhooks from it, and an abort without a reason costs a DOMException (with a stack) per call.
  }
}

/** Merges the outer frame headers of a sealed first message with the sealed Connect headers. */
export function sealedRequestHeaders(
  outer: MsgHdrs | undefined,
  inner: readonly { name: string; value: string }[],
): MsgHdrs {
  const merged = toNatsHeaders(fromHeaderLines(inner));
  const frame = readHeader(outer, HeaderName.frame);
  if (frame !== undefined) merged.set(HeaderName.frame, frame);
  return merged;
}

function isBinaryParseFailure(status: number, body: Uint8Array): boolean {
  return status === 500 && unaryErrorText(body).startsWith("parse binary:");
}

/** The message of a unary Connect error body, for the NATS service error header. */
function unaryErrorText(body: Uint8Array): string {
  try {
    const json = JSON.parse(textDecoder.decode(body)) as { code?: string; message?: string };
    return json.message ?? json.code ?? "error";
  } catch {
    return "error";
  }
}

/** The error of a Connect end-stream envelope (the last chunk of a stream), if any. */
function streamErrorText(
  status: number,
  lastChunk: Uint8Array | undefined,
): { status: number; message: string } | undefined {
  if (status !== 200) return { status, message: `HTTP status ${status}` };
  if (lastChunk === undefined || lastChunk.length < 5) return undefined;
  if (((lastChunk[0] ?? 0) & endStreamFlag) !== endStreamFlag) return undefined;
  try {
    const { error } = endStreamFromJson(lastChunk.subarray(5));
    if (error === undefined) return undefined;
    return { status: codeToHttpStatus(error.code), message: error.rawMessage || Code[error.code] };
  } catch {
    return undefined;
  }
}
