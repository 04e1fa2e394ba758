import { setMaxListeners } from "node:events";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  createConnectRouter,
  createMethodImplSpec,
  createServiceImplSpec,
  type Interceptor,
  type MethodImplSpec,
} from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import {
  Events,
  type Msg,
  type NatsConnection,
  type NatsError,
  nuid,
  type Subscription,
} from "nats";
import { HeaderName, readHeader } from "../protocol/headers.js";
import {
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_MAX_BUFFERED_FRAMES,
  DEFAULT_QUEUE_GROUP,
  DEFAULT_STREAM_IDLE_TIMEOUT_MS,
  SERVICE_NAME_PATTERN,
} from "../protocol/limits.js";
import type { RequestOpener } from "../sealing/index.js";
import {
  matchSubject,
  type ResolvedServiceRoute,
  requireServiceRoute,
  subscriptionSubject,
} from "../subject/index.js";
import { answerDiscovery, type DiscoveryEndpoint } from "./discovery.js";
import { EndpointStats } from "./endpoint-stats.js";
import { type CallEnvironment, ServerCall, sealedRequestHeaders } from "./server-call.js";
import {
  createUnaryHandler,
  type UnaryHandler,
  type UnaryHandlerOptions,
} from "./unary-handler.js";

/** Options of {@link serveNats}. Everything but `connection` and `routes` has a default. */
export interface ServeNatsOptions {
  /** The NATS connection to serve on. The caller owns it (closing the server does not close it). */
  readonly connection: NatsConnection;
  /** Registers services on the Connect router, as with `connectNodeAdapter({ routes })`. */
  readonly routes: (router: ConnectRouter) => void;
  /**
   * Fixes subject variables, so this instance serves only those subjects. A vault-manager serving
   * one member passes `{ owner_guid }`; a shared service leaves variables open (`*`).
   */
  readonly subjectValues?: Readonly<Record<string, string>>;
  /** Queue group for first messages; instances in one group share calls. Default "vettid-rpc". */
  readonly queueGroup?: string;
  /** Name in the NATS services protocol (`nats micro ls`). Default "vettid-rpc". */
  readonly name?: string;
  /** Semantic version reported to `nats micro`. Default "0.1.0". */
  readonly version?: string;
  /** One line for `nats micro info`. */
  readonly description?: string;
  /** Connect interceptors run around every handler. */
  readonly interceptors?: Interceptor[];
  /** Largest request message accepted, in bytes. Default: the NATS server's max_payload. */
  readonly readMaxBytes?: number;
  /** Largest deadline a caller may ask for (`connect-timeout-ms`). Default: no limit. */
  readonly maxTimeoutMs?: number;
  /** See {@link DEFAULT_STREAM_IDLE_TIMEOUT_MS}. */
  readonly streamIdleTimeoutMs?: number;
  /** See {@link DEFAULT_HEARTBEAT_INTERVAL_MS}. */
  readonly heartbeatIntervalMs?: number;
  /** See {@link DEFAULT_MAX_BUFFERED_FRAMES}. */
  readonly maxBufferedFrames?: number;
  /**
   * Called with problems that cannot be answered to a caller (no or foreign reply subject, a
   * message that made handling fail). Default: a warning on stderr. Never given message contents.
   */
  readonly onProblem?: (problem: string) => void;
  /**
   * Opens sealed calls (the enclave's key). Services whose route is `sealed` are then served on
   * their sealed subject; without it they cannot be reached sealed.
   */
  readonly sealing?: RequestOpener;
  /**
   * Also serve sealed services unsealed on their per-method subjects. Off by default: a sealed
   * service's whole point is that relays cannot read its calls. For tests and trusted hops only.
   */
  readonly allowUnsealed?: boolean;
}

/** A running server; `close()` stops taking calls, aborts those in flight and unsubscribes. */
export interface NatsRpcServer {
  /** This instance's id (also its token in continuation subjects and `nats micro`). */
  readonly id: string;
  /** Every subject this instance subscribes to. */
  readonly subjects: readonly string[];
  close(): Promise<void>;
}

interface ServedService {
  readonly route: ResolvedServiceRoute;
  /** Subscription pattern of the sealed subject, for sealed routes. */
  readonly sealedPattern: string | undefined;
  /** Subscription pattern of the service subject (variables as `*` unless fixed). */
  readonly pattern: string;
  readonly handlers: ReadonlyMap<string, UniversalHandler>;
  readonly stats: ReadonlyMap<string, EndpointStats>;
}

/**
 * Serves a Connect router on NATS: first messages of calls arrive through a queue group on each
 * method's subject (so instances share the load); the later frames of a streaming call, and
 * cancellations, reach this very instance on subjects that carry its id.
 */
export async function serveNats(options: ServeNatsOptions): Promise<NatsRpcServer> {
  const { connection } = options;
  const id = nuid.next();
  const name = options.name ?? "vettid-rpc";
  if (!SERVICE_NAME_PATTERN.test(name)) {
    throw new Error(`serveNats: name "${name}" must match ${SERVICE_NAME_PATTERN}`);
  }
  const queueGroup = options.queueGroup ?? DEFAULT_QUEUE_GROUP;
  const shutdown = new AbortController();
  // Connect adds one listener per call in flight to the shutdown signal; hundreds are normal.
  setMaxListeners(0, shutdown.signal);
  const router = createConnectRouter({
    connect: true,
    grpc: false,
    grpcWeb: false,
    interceptors: options.interceptors ?? [],
    shutdownSignal: shutdown.signal,
    readMaxBytes: options.readMaxBytes ?? connection.info?.max_payload ?? 1024 * 1024,
    ...(options.maxTimeoutMs === undefined ? {} : { maxTimeoutMs: options.maxTimeoutMs }),
  });
  const unaryHandlers = new Map<string, UnaryHandler>();
  options.routes(
    recordUnaryImplementations(router, unaryHandlers, {
      interceptors: options.interceptors ?? [],
      readMaxBytes: options.readMaxBytes ?? connection.info?.max_payload ?? 1024 * 1024,
      maxTimeoutMs: options.maxTimeoutMs ?? Number.MAX_SAFE_INTEGER,
      shutdownSignal: shutdown.signal,
    }),
  );

  const services = groupByService(router.handlers, options.subjectValues ?? {});
  const calls = new Map<string, ServerCall>();
  const environment: CallEnvironment = {
    connection,
    instanceId: id,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS,
    idleTimeoutMs: options.streamIdleTimeoutMs ?? DEFAULT_STREAM_IDLE_TIMEOUT_MS,
    maxBufferedFrames: options.maxBufferedFrames ?? DEFAULT_MAX_BUFFERED_FRAMES,
    register: (key, call) => calls.set(key, call),
    unregister: (key) => calls.delete(key),
  };
  const onProblem =
    options.onProblem ?? ((problem: string) => console.warn(`[vettid-rpc] ${problem}`));
  /**
   * Wraps a subscription callback: a message that makes handling throw is reported and dropped,
   * and the subscription (which nats.js would otherwise tear down) keeps serving.
   */
  const guarded =
    (handle: (msg: Msg) => unknown) =>
    (error: NatsError | null, msg: Msg): void => {
      if (error !== null) {
        onProblem(`subscription error: ${error.message}`);
        return;
      }
      try {
        handle(msg);
      } catch (failure) {
        onProblem(`${msg.subject}: ${String(failure)}`);
      }
    };

  const subscriptions: Subscription[] = [];
  const endpoints: DiscoveryEndpoint[] = [];
  const listenForLaterFrames = (pattern: string) => {
    subscriptions.push(
      // Later frames of streaming calls on this instance, and cancellations of any call.
      connection.subscribe(`${pattern}.${id}.*`, {
        callback: guarded((msg) => calls.get(msg.subject)?.onFrame(msg)),
      }),
      connection.subscribe(`${pattern}.cancel.*`, {
        callback: guarded((msg) => calls.get(msg.subject)?.onCancel(msg)),
      }),
    );
  };
  for (const service of services) {
    const methodPattern = `${service.pattern}.*`;
    if (!service.route.sealed || options.allowUnsealed === true) {
      subscriptions.push(
        connection.subscribe(methodPattern, {
          queue: queueGroup,
          callback: guarded((msg) => onFirstMessage(service, msg)),
        }),
      );
      listenForLaterFrames(methodPattern);
    }
    for (const [method, stats] of service.stats) {
      endpoints.push({
        name: `${service.route.service.name}-${method}`,
        subject: service.sealedPattern ?? `${service.pattern}.${method}`,
        queueGroup,
        metadata: {
          rpc: "connect",
          service: service.route.service.typeName,
          method,
          sealed: String(service.route.sealed),
        },
        stats,
      });
    }
  }
  // Sealed services of one space share one sealed subject; the method is inside the seal.
  const sealedGroups = new Map<string, ServedService[]>();
  for (const service of services) {
    if (service.sealedPattern === undefined) continue;
    const group = sealedGroups.get(service.sealedPattern) ?? [];
    group.push(service);
    sealedGroups.set(service.sealedPattern, group);
  }
  if (options.sealing !== undefined) {
    const opener = options.sealing;
    for (const [pattern, group] of sealedGroups) {
      const byPath = new Map<string, ServedService>();
      for (const service of group) {
        for (const method of service.handlers.keys()) {
          byPath.set(`/${service.route.service.typeName}/${method}`, service);
        }
      }
      subscriptions.push(
        connection.subscribe(pattern, {
          queue: queueGroup,
          callback: guarded((msg) =>
            onSealedMessage(group, byPath, opener, msg).catch((error: unknown) =>
              onProblem(`${msg.subject}: ${String(error)}`),
            ),
          ),
        }),
      );
      listenForLaterFrames(pattern);
    }
  }
  subscriptions.push(
    ...answerDiscovery(
      connection,
      {
        name,
        id,
        version: options.version ?? "0.1.0",
        description: options.description ?? "",
        metadata: { protocol: "vettid-connect-nats/1" },
      },
      endpoints,
    ),
  );

  // Once serveNats resolves, the server knows every subscription: calls made from here on arrive.
  await connection.flush();

  // Calls in flight cannot be answered over a lost connection: end them now rather than letting
  // handlers run on for callers that have already been told `unavailable`.
  void (async () => {
    for await (const status of connection.status()) {
      if (status.type === Events.Disconnect) {
        const error = new ConnectError("NATS connection lost", Code.Unavailable);
        for (const call of new Set(calls.values())) call.abort(error, false);
      }
    }
  })().catch(() => {});

  function onFirstMessage(service: ServedService, msg: Msg): void {
    if (shutdown.signal.aborted) return;
    const lastDot = msg.subject.lastIndexOf(".");
    const methodName = msg.subject.slice(lastDot + 1);
    ServerCall.start(environment, {
      request: msg,
      route: service.route,
      values: matchSubject(service.route.subject, msg.subject.slice(0, lastDot)),
      handler: service.handlers.get(methodName),
      methodName,
      stats: service.stats.get(methodName),
      sealed: undefined,
      onProblem,
      unary: unaryHandlers.get(`${service.route.service.typeName}/${methodName}`),
    });
  }

  async function onSealedMessage(
    group: readonly ServedService[],
    byPath: ReadonlyMap<string, ServedService>,
    opener: RequestOpener,
    msg: Msg,
  ): Promise<void> {
    if (shutdown.signal.aborted) return;
    const first = group[0];
    if (first === undefined || first.route.sealedSubject === undefined) return;
    const values = matchSubject(first.route.sealedSubject, msg.subject);
    const kind = readHeader(msg.headers, HeaderName.frame) ?? "unary";
    let opened: Awaited<ReturnType<RequestOpener["open"]>>;
    try {
      opened = await opener.open(msg.subject, kind, msg.data);
    } catch (error) {
      // Not opened, so nothing can be sealed back: a plain error (it reveals nothing the relay
      // does not know) goes to the reply subject if that passes the same checks as any reply.
      ServerCall.start(environment, {
        request: msg,
        route: first.route,
        values,
        handler: undefined,
        methodName: "(sealed)",
        stats: undefined,
        sealed: undefined,
        onProblem,
        refusal: ConnectError.from(error, Code.InvalidArgument),
      });
      return;
    }
    const path = opened.content.path;
    const service = byPath.get(path);
    const methodName = path.slice(path.lastIndexOf("/") + 1);
    ServerCall.start(environment, {
      request: {
        subject: msg.subject,
        reply: msg.reply,
        headers: sealedRequestHeaders(msg.headers, opened.content.headers),
        data: opened.content.body,
      },
      route: service?.route ?? first.route,
      values,
      handler: service?.handlers.get(methodName),
      methodName: path.slice(0, 200),
      stats: service?.stats.get(methodName),
      sealed: opened.call,
      onProblem,
      unary: unaryHandlers.get(path.slice(1)),
    });
  }

  return {
    id,
    subjects: subscriptions.map((s) => s.getSubject()),
    async close() {
      shutdown.abort(new ConnectError("server is shutting down", Code.Unavailable));
      for (const subscription of subscriptions) subscription.unsubscribe();
      const error = new ConnectError("server is shutting down", Code.Unavailable);
      for (const call of new Set(calls.values())) call.abort(error, true);
      await connection.flush().catch(() => {});
    },
  };
}

function groupByService(
  handlers: readonly UniversalHandler[],
  fixed: Readonly<Record<string, string>>,
): ServedService[] {
  const byService = new Map<
    string,
    { handlers: Map<string, UniversalHandler>; route: ResolvedServiceRoute }
  >();
  for (const handler of handlers) {
    const route = requireServiceRoute(handler.service);
    let entry = byService.get(handler.service.typeName);
    if (entry === undefined) {
      entry = { handlers: new Map(), route };
      byService.set(handler.service.typeName, entry);
    }
    entry.handlers.set(handler.method.name, handler);
  }
  return [...byService.values()].map(({ handlers: byMethod, route }) => ({
    route,
    pattern: subscriptionSubject(route.subject, fixed),
    sealedPattern:
      route.sealedSubject === undefined
        ? undefined
        : subscriptionSubject(route.sealedSubject, fixed),
    handlers: byMethod,
    stats: new Map([...byMethod.keys()].map((method) => [method, new EndpointStats()])),
  }));
}

/**
 * Hands the caller's `routes` a router that also keeps each unary implementation, so unary calls
 * can take the direct path of {@link createUnaryHandler}. Registrations with their own options
 * (per-service interceptors, limits) keep to the universal handler, which applies them.
 */
function recordUnaryImplementations(
  router: ConnectRouter,
  into: Map<string, UnaryHandler>,
  options: UnaryHandlerOptions,
): ConnectRouter {
  const keep = (spec: MethodImplSpec) => {
    if (spec.kind === "unary") {
      into.set(
        `${spec.method.parent.typeName}/${spec.method.name}`,
        createUnaryHandler(spec, options),
      );
    }
  };
  const recorder: ConnectRouter = {
    get handlers() {
      return router.handlers;
    },
    service(service, implementation, serviceOptions) {
      router.service(service, implementation, serviceOptions);
      if (serviceOptions === undefined) {
        const spec = createServiceImplSpec(service, implementation);
        for (const method of Object.values(spec.methods)) keep(method);
      }
      return recorder;
    },
    rpc(method, implementation, rpcOptions) {
      router.rpc(method, implementation, rpcOptions);
      if (rpcOptions === undefined) keep(createMethodImplSpec(method, implementation));
      return recorder;
    },
  };
  return recorder;
}
