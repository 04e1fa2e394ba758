import type {
  BinaryReadOptions,
  BinaryWriteOptions,
  DescMethod,
  JsonReadOptions,
  JsonWriteOptions,
} from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor, type Transport } from "@connectrpc/connect";
import type { UniversalClientFn } from "@connectrpc/connect/protocol";
import { createTransport } from "@connectrpc/connect/protocol-connect";
import type { NatsConnection } from "nats";
import {
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_MAX_BUFFERED_FRAMES,
  DEFAULT_STREAM_IDLE_TIMEOUT_MS,
  DEFAULT_TIMEOUT_MS,
} from "../protocol/limits.js";
import type { RequestSealer } from "../sealing/index.js";
import { expandSubject, methodSubject, requireServiceRoute } from "../subject/index.js";
import { type CallTarget, streamCall, unaryCall } from "./client-call.js";
import { connectionState } from "./connection-state.js";
import { replyInbox } from "./reply-inbox.js";

/** Options of {@link createNatsTransport}. Everything but `connection` has a default. */
export interface NatsTransportOptions {
  /** The NATS connection calls travel on. The caller owns it. */
  readonly connection: NatsConnection;
  /**
   * Values for the subject variables of the services called, e.g. `{ owner_guid }` for a member's
   * vault (and `caller_guid` where a route's reply prefix names the caller). Checked to be single
   * NATS tokens before any subject is built: a bad value fails the call with `invalid_argument`.
   */
  readonly subjectValues?: Readonly<Record<string, string>>;
  /** Protobuf binary (default) or JSON on the wire. */
  readonly useBinaryFormat?: boolean;
  /** Connect interceptors, as for any transport. */
  readonly interceptors?: Interceptor[];
  /** Deadline for calls that give none; see {@link DEFAULT_TIMEOUT_MS}. `0` disables it. */
  readonly defaultTimeoutMs?: number;
  readonly jsonOptions?: Partial<JsonReadOptions & JsonWriteOptions>;
  readonly binaryOptions?: Partial<BinaryReadOptions & BinaryWriteOptions>;
  /** Largest response message accepted, in bytes. Default: the NATS server's max_payload. */
  readonly readMaxBytes?: number;
  /** See {@link DEFAULT_STREAM_IDLE_TIMEOUT_MS}. */
  readonly streamIdleTimeoutMs?: number;
  /** See {@link DEFAULT_HEARTBEAT_INTERVAL_MS}. */
  readonly heartbeatIntervalMs?: number;
  /** See {@link DEFAULT_MAX_BUFFERED_FRAMES}. */
  readonly maxBufferedFrames?: number;
  /**
   * Seals calls to services whose route is `sealed`, to the enclave's attested key
   * (`createRequestSealer(publicKey)`). Without it, such calls fail with `failed_precondition`.
   */
  readonly sealing?: RequestSealer;
  /**
   * Send calls to sealed services unsealed when no `sealing` is given (tests and trusted hops
   * inside the enclave only: relays can then read them). Off by default.
   */
  readonly allowUnsealed?: boolean;
  /**
   * Where replies of routes that pin no reply prefix arrive: `_INBOX` by default. A caller whose
   * messages are relayed (the enclave, behind its parent) names a prefix the relay subscribes to.
   */
  readonly inboxPrefix?: string;
}

/** Base of the URLs Connect builds (`nats://rpc/<package.Service>/<Method>`); never dialled. */
const BASE_URL = "nats://rpc";

/**
 * A Connect transport that carries calls over NATS: `createClient(Service, transport)` works as it
 * does over HTTP, with interceptors, the 16 error codes, deadlines, headers and trailers, for all
 * four kinds of method. Subjects come from each service's `(vettid.options.v1.route)` option.
 */
export function createNatsTransport(options: NatsTransportOptions): Transport {
  const { connection } = options;
  const values = options.subjectValues ?? {};
  const state = connectionState(connection);
  const methods = new Map<string, DescMethod>();
  const targets = new Map<string, CallTarget>();

  const resolve = (path: string): CallTarget | undefined => {
    let target = targets.get(path);
    if (target === undefined) {
      const method = methods.get(path);
      if (method === undefined) return undefined;
      const route = requireServiceRoute(method.parent);
      const prefix =
        route.replyPrefix === undefined
          ? (options.inboxPrefix ?? "_INBOX")
          : expandSubject(route.replyPrefix, values);
      const sealer = route.sealedSubject === undefined ? undefined : options.sealing;
      if (route.sealed && sealer === undefined && options.allowUnsealed !== true) {
        throw new ConnectError(
          `${method.parent.typeName} is sealed: create the transport with \`sealing\` (the enclave's attested key)`,
          Code.FailedPrecondition,
        );
      }
      target = {
        connection,
        state,
        path,
        sealer,
        // Looked up per call: an inbox whose subscription NATS refused is replaced by a new one.
        get inbox() {
          return replyInbox(connection, prefix);
        },
        subject:
          sealer !== undefined && route.sealedSubject !== undefined
            ? expandSubject(route.sealedSubject, values)
            : methodSubject(method, values),
        heartbeatIntervalMs: options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS,
        idleTimeoutMs: options.streamIdleTimeoutMs ?? DEFAULT_STREAM_IDLE_TIMEOUT_MS,
        maxBufferedFrames: options.maxBufferedFrames ?? DEFAULT_MAX_BUFFERED_FRAMES,
      };
      targets.set(path, target);
    }
    return target;
  };

  const httpClient: UniversalClientFn = (request) => {
    const path = request.url.slice(BASE_URL.length);
    let target: CallTarget | undefined;
    try {
      target = resolve(path);
    } catch (error) {
      return Promise.reject(error);
    }
    if (target === undefined) {
      return Promise.reject(new ConnectError(`no NATS route known for ${path}`, Code.Internal));
    }
    return methods.get(path)?.methodKind === "unary"
      ? unaryCall(request, target)
      : streamCall(request, target);
  };

  const inner = createTransport({
    httpClient,
    baseUrl: BASE_URL,
    useBinaryFormat: options.useBinaryFormat ?? true,
    interceptors: options.interceptors ?? [],
    acceptCompression: [],
    sendCompression: null,
    compressMinBytes: Number.MAX_SAFE_INTEGER,
    readMaxBytes: options.readMaxBytes ?? connection.info?.max_payload ?? 1024 * 1024,
    writeMaxBytes: Number.MAX_SAFE_INTEGER,
    defaultTimeoutMs: options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    ...(options.jsonOptions === undefined ? {} : { jsonOptions: options.jsonOptions }),
    ...(options.binaryOptions === undefined ? {} : { binaryOptions: options.binaryOptions }),
  });

  // Connect hands the transport the method descriptor, but the HTTP-level client only the URL:
  // remember each method by its path the first time it is called.
  const remember = (method: DescMethod) => {
    const path = `/${method.parent.typeName}/${method.name}`;
    if (!methods.has(path)) methods.set(path, method);
  };
  return {
    unary(method, ...rest) {
      remember(method);
      return inner.unary(method, ...rest);
    },
    stream(method, ...rest) {
      remember(method);
      return inner.stream(method, ...rest);
    },
  };
}
