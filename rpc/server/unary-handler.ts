import type {
  BinaryReadOptions,
  BinaryWriteOptions,
  JsonReadOptions,
  JsonWriteOptions,
} from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ContextValues,
  createHandlerContext,
  type Interceptor,
  type MethodImplSpec,
} from "@connectrpc/connect";
import {
  createMethodSerializationLookup,
  invokeUnaryImplementation,
} from "@connectrpc/connect/protocol";
import {
  codeToHttpStatus,
  contentTypeUnaryJson,
  contentTypeUnaryProto,
  errorToJsonBytes,
  headerContentType,
  headerTimeout,
  headerUnaryContentLength,
  headerUnaryEncoding,
  parseContentType,
  parseTimeout,
  trailerMux,
} from "@connectrpc/connect/protocol-connect";

/** The reason a finished call's context signal carries (the call is over; nothing failed). */
const CALL_FINISHED = new ConnectError("the call has finished", Code.Canceled);

/** A unary response as the server sends it: status, headers (trailers muxed in), body. */
export interface UnaryResult {
  readonly status: number;
  readonly header: Headers;
  readonly body: Uint8Array;
}

/** Options shared by every unary handler of one server. */
export interface UnaryHandlerOptions {
  readonly interceptors: Interceptor[];
  readonly readMaxBytes: number;
  readonly maxTimeoutMs: number;
  readonly shutdownSignal: AbortSignal;
  readonly jsonOptions?: Partial<JsonReadOptions & JsonWriteOptions>;
  readonly binaryOptions?: Partial<BinaryReadOptions & BinaryWriteOptions>;
}

/** Runs one unary call; undefined means "not for this path" (the universal handler takes it). */
export type UnaryHandler = (
  header: Headers,
  body: Uint8Array,
  signal: AbortSignal,
  contextValues: ContextValues,
) => Promise<UnaryResult> | undefined;

/**
 * The Connect unary protocol for one method, without the HTTP-shaped plumbing NATS has no use for
 * (URL parsing, GET requests, compression, body streams). It follows Connect-ES's own unary
 * handler step for step — content type, `connect-timeout-ms`, a handler context with the
 * deadline, the interceptors, error JSON and trailers — with Connect's own helpers, so answers are
 * byte for byte those of the router; requests it does not cover (compressed, or not a unary
 * content type) go to the router's universal handler.
 */
export function createUnaryHandler(
  spec: MethodImplSpec & { kind: "unary" },
  options: UnaryHandlerOptions,
): UnaryHandler {
  const serialization = createMethodSerializationLookup(
    spec.method,
    options.binaryOptions,
    options.jsonOptions,
    { readMaxBytes: options.readMaxBytes, writeMaxBytes: Number.MAX_SAFE_INTEGER },
  );
  const url = `nats://rpc/${spec.method.parent.typeName}/${spec.method.name}`;
  return (header, body, signal, contextValues) => {
    const type = parseContentType(header.get(headerContentType));
    if (type === undefined || type.stream || header.has(headerUnaryEncoding)) return undefined;
    return run(type.binary);

    async function run(binary: boolean): Promise<UnaryResult> {
      const timeout = parseTimeout(header.get(headerTimeout), options.maxTimeoutMs);
      const context = createHandlerContext({
        service: spec.method.parent,
        method: spec.method,
        protocolName: "connect",
        requestMethod: "POST",
        url,
        ...(timeout.timeoutMs === undefined ? {} : { timeoutMs: timeout.timeoutMs }),
        shutdownSignal: options.shutdownSignal,
        requestSignal: signal,
        requestHeader: header,
        responseHeader: {
          [headerContentType]: binary ? contentTypeUnaryProto : contentTypeUnaryJson,
        },
        contextValues,
      });
      let status = 200;
      let responseBody: Uint8Array;
      try {
        if (timeout.error !== undefined) throw timeout.error;
        if (body.byteLength > options.readMaxBytes) {
          throw new ConnectError(
            `message size ${body.byteLength} is larger than configured readMaxBytes ${options.readMaxBytes}`,
            Code.ResourceExhausted,
          );
        }
        let input: ReturnType<ReturnType<typeof serialization.getI>["parse"]>;
        try {
          input = serialization.getI(binary).parse(body);
        } catch (error) {
          // Connect-ES calls an undecodable binary request `internal`; it is the caller's input.
          throw new ConnectError(
            `request is not a valid ${spec.method.input.typeName}: ${error instanceof Error ? error.message : String(error)}`,
            Code.InvalidArgument,
          );
        }
        const output = await invokeUnaryImplementation(spec, context, input, options.interceptors);
        responseBody = serialization.getO(binary).serialize(output);
      } catch (failure) {
        context.abort(failure);
        const error =
          failure instanceof ConnectError
            ? failure
            : new ConnectError("internal error", Code.Internal, undefined, undefined, failure);
        status = codeToHttpStatus(error.code);
        context.responseHeader.set(headerContentType, contentTypeUnaryJson);
        error.metadata.forEach((value, key) => {
          context.responseHeader.set(key, value);
        });
        responseBody = errorToJsonBytes(error, options.jsonOptions);
      } finally {
        // A shared reason: an abort without one builds a DOMException, stack and all, per call.
        context.abort(CALL_FINISHED);
      }
      const responseHeader = trailerMux(context.responseHeader, context.responseTrailer);
      responseHeader.set(headerUnaryContentLength, String(responseBody.byteLength));
      return { status, header: responseHeader, body: responseBody };
    }
  };
}
