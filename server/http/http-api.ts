import { fromBinary } from "@bufbuild/protobuf";
import {
  Code,
  type ConnectRouter,
  type ConnectRouterOptions,
  createConnectRouter,
  createContextValues,
  type Interceptor,
} from "@connectrpc/connect";
import type {
  UniversalHandler,
  UniversalServerRequest,
  UniversalServerResponse,
} from "@connectrpc/connect/protocol";
import { parseContentType } from "@connectrpc/connect/protocol-connect";
import { type Logger, silentLogger } from "../logging/index.js";
import { clientAddressKey } from "./client-address.js";
import { checkEdge, tooLarge } from "./edge-checks.js";
import { createErrorInterceptor } from "./error-interceptor.js";
import { errorResponse } from "./error-response.js";
import { DEFAULT_MAX_REQUEST_BYTES, DEFAULT_MAX_TIMEOUT_MS } from "./limits.js";

/** Options of {@link createHttpApi}. */
export interface HttpApiOptions {
  /** Registers the services (plain functions) on the router. */
  readonly routes: (router: ConnectRouter) => void;
  /** Default {@link DEFAULT_MAX_REQUEST_BYTES}. */
  readonly maxRequestBytes?: number;
  /** Default {@link DEFAULT_MAX_TIMEOUT_MS}. */
  readonly maxTimeoutMs?: number;
  /** Run around every call, after the error interceptor. */
  readonly interceptors?: readonly Interceptor[];
  /** Where unexpected errors are logged. Default: nowhere. */
  readonly logger?: Logger;
}

/** A request as the adapters hand it over: the body already in memory. */
export interface BufferedRequest {
  readonly method: string;
  /** Path and optional query string, e.g. `/vettid.enrollment.v1.EnrollmentService/EnrollStart`. */
  readonly path: string;
  readonly header: Headers;
  readonly body: Uint8Array;
  /** The caller's address, for rate limits; undefined when unknown. */
  readonly clientAddress?: string;
  /** Aborted when the caller goes away or the platform's time runs out. */
  readonly signal?: AbortSignal;
}

/**
 * The HTTP API: Connect's unary protocol (JSON and binary protobuf) over the services, with the
 * same edge checks, limits and error handling whichever adapter serves it.
 */
export interface HttpApi {
  /** The procedure paths served (`/vettid.enrollment.v1.EnrollmentService/EnrollStart`, …). */
  readonly procedures: ReadonlySet<string>;
  readonly maxRequestBytes: number;
  /** Answers one request whose body is in memory (both adapters' path). */
  handle(request: BufferedRequest): Promise<UniversalServerResponse>;
}

/**
 * Builds the HTTP API over the services `routes` registers: Connect protocol only (no gRPC,
 * gRPC-web: the apps and curl speak Connect), no compression, unknown JSON fields refused, every
 * request body at most `maxRequestBytes`, deadlines at most `maxTimeoutMs`, and errors that are
 * not deliberate `ConnectError`s turned into `internal` without detail.
 */
export function createHttpApi(options: HttpApiOptions): HttpApi {
  const maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  if (!Number.isSafeInteger(maxRequestBytes) || maxRequestBytes < 1024) {
    throw new RangeError(
      `maxRequestBytes must be a whole number, at least 1024; got ${maxRequestBytes}`,
    );
  }
  const routerOptions: ConnectRouterOptions = {
    connect: true,
    grpc: false,
    grpcWeb: false,
    acceptCompression: [],
    readMaxBytes: maxRequestBytes,
    maxTimeoutMs: options.maxTimeoutMs ?? DEFAULT_MAX_TIMEOUT_MS,
    jsonOptions: { ignoreUnknownFields: false },
    interceptors: [
      createErrorInterceptor(options.logger ?? silentLogger),
      ...(options.interceptors ?? []),
    ],
  };
  const router = createConnectRouter(routerOptions);
  options.routes(router);
  const handlers = new Map<string, UniversalHandler>(
    router.handlers.map((handler) => [handler.requestPath, handler]),
  );
  const procedures = new Set(handlers.keys());
  return {
    procedures,
    maxRequestBytes,
    async handle(request) {
      const path = request.path.split("?", 1)[0] ?? "";
      const rejection = checkEdge(
        { method: request.method, path, header: request.header },
        { procedures, maxRequestBytes },
      );
      if (rejection !== undefined) return rejection;
      if (request.body.byteLength > maxRequestBytes) {
        return tooLarge(request.body.byteLength, maxRequestBytes);
      }
      const handler = handlers.get(path) as UniversalHandler;
      // Connect reports a binary body that does not decode as `internal` (its serialization
      // marks every binary parse error so); it is the caller's mistake: `invalid_argument`.
      if (parseContentType(request.header.get("content-type"))?.binary === true) {
        try {
          fromBinary(handler.method.input, request.body);
        } catch (error) {
          return errorResponse(
            Code.InvalidArgument,
            `cannot decode message ${handler.method.input.typeName} from binary: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      }
      const header = new Headers(request.header);
      header.set("content-length", String(request.body.byteLength));
      const universal: UniversalServerRequest = {
        httpVersion: "1.1",
        url: `https://api.invalid${request.path}`,
        method: request.method,
        header,
        body: (async function* () {
          yield request.body;
        })(),
        signal: request.signal ?? new AbortController().signal,
        contextValues: createContextValues().set(clientAddressKey, request.clientAddress),
      };
      return await handler(universal);
    },
  };
}

/** Reads a universal response body into one buffer. */
export async function readResponseBody(response: UniversalServerResponse): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of response.body ?? []) {
    chunks.push(chunk);
    length += chunk.byteLength;
  }
  const body = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
