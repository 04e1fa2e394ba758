import { Code } from "@connectrpc/connect";
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";
import { parseContentType } from "@connectrpc/connect/protocol-connect";
import { errorResponse } from "./error-response.js";

/** What the edge looks at before a request reaches a Connect handler. */
export interface EdgeRequest {
  readonly method: string;
  /** The request path without the query string. */
  readonly path: string;
  readonly header: Headers;
}

/** Options of {@link checkEdge}. */
export interface EdgeOptions {
  /** The procedure paths served. */
  readonly procedures: ReadonlySet<string>;
  readonly maxRequestBytes: number;
}

/**
 * Refuses, with a JSON Connect error, what no handler should see: an unknown path (404
 * `not_found`), a method other than POST (405), a body that is not `application/json` or
 * `application/proto` or is compressed (415), a declared length over the limit (413
 * `resource_exhausted`). Undefined when the request may go on. Both the local server and the
 * Lambda adapter call it, so both answer alike.
 */
export function checkEdge(
  request: EdgeRequest,
  options: EdgeOptions,
): UniversalServerResponse | undefined {
  if (!options.procedures.has(request.path)) {
    return errorResponse(
      Code.NotFound,
      `no procedure at ${quoted(request.path)}: paths are /<package>.<Service>/<Method> (docs/http-api.md)`,
      { status: 404 },
    );
  }
  if (request.method !== "POST") {
    return errorResponse(
      Code.InvalidArgument,
      `method ${quoted(request.method)} is not allowed: Connect unary calls use POST`,
      { status: 405, header: { allow: "POST" } },
    );
  }
  const contentType = request.header.get("content-type") ?? "";
  const parsed = parseContentType(contentType);
  if (parsed === undefined || parsed.stream) {
    return errorResponse(
      Code.InvalidArgument,
      `content-type must be application/json or application/proto, got ${quoted(contentType)}`,
      { status: 415 },
    );
  }
  const encoding = request.header.get("content-encoding");
  if (encoding !== null && encoding !== "" && encoding.toLowerCase() !== "identity") {
    return errorResponse(
      Code.InvalidArgument,
      `content-encoding ${quoted(encoding)} is not accepted: send the body uncompressed`,
      { status: 415 },
    );
  }
  const length = request.header.get("content-length");
  if (length !== null) {
    const declared = Number(length);
    if (!/^\d+$/.test(length) || !Number.isSafeInteger(declared)) {
      return errorResponse(
        Code.InvalidArgument,
        `content-length ${quoted(length)} is not a number`,
      );
    }
    if (declared > options.maxRequestBytes) return tooLarge(declared, options.maxRequestBytes);
  }
  return undefined;
}

/** The 413 answer for a body over the limit. */
export function tooLarge(size: number | undefined, limit: number): UniversalServerResponse {
  return errorResponse(
    Code.ResourceExhausted,
    `request body is ${size === undefined ? "larger than the limit" : `${size} bytes`}; at most ${limit} bytes are accepted`,
    { status: 413 },
  );
}

/** A value quoted for an error message, cut to 64 characters. */
function quoted(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}
