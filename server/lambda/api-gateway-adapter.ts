import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from "aws-lambda";
import { type HttpApi, readResponseBody } from "../http/index.js";

/**
 * Time kept back from the Lambda's remaining time when deriving a call's signal: enough to write
 * the error answer and return before the platform kills the invocation.
 */
export const DEFAULT_LAMBDA_RESPONSE_MARGIN_MS = 500;

/** The Lambda handler signature for API Gateway HTTP API (payload format 2.0) events. */
export type ApiGatewayHandler = (
  event: APIGatewayProxyEventV2,
  context?: Pick<Context, "getRemainingTimeInMillis">,
) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * Adapts the HTTP API to API Gateway HTTP API events (payload format 2.0): the event becomes
 * Connect's universal request (method, path without the stage, headers, the body decoded from
 * base64 when API Gateway encoded it, the caller's source IP), the same handler as the local
 * server answers it, and the universal response becomes the Lambda result (JSON bodies as text,
 * binary protobuf as base64).
 */
export function createApiGatewayHandler(api: HttpApi): ApiGatewayHandler {
  return async (event, context) => {
    const http = event.requestContext?.http;
    const header = new Headers();
    for (const [name, value] of Object.entries(event.headers ?? {})) {
      if (value !== undefined) header.set(name, value);
    }
    const body =
      event.body === undefined || event.body === null
        ? new Uint8Array()
        : event.isBase64Encoded
          ? new Uint8Array(Buffer.from(event.body, "base64"))
          : new TextEncoder().encode(event.body);
    const remaining = context?.getRemainingTimeInMillis();
    const signal =
      remaining === undefined
        ? undefined
        : AbortSignal.timeout(Math.max(1, remaining - DEFAULT_LAMBDA_RESPONSE_MARGIN_MS));
    const response = await api.handle({
      method: http?.method ?? "",
      path: `${withoutStage(event.rawPath ?? "", event.requestContext?.stage)}${event.rawQueryString ? `?${event.rawQueryString}` : ""}`,
      header,
      body,
      ...(http?.sourceIp === undefined ? {} : { clientAddress: http.sourceIp }),
      ...(signal === undefined ? {} : { signal }),
    });
    const bytes = await readResponseBody(response);
    const headers: Record<string, string> = {};
    response.header?.forEach((value, name) => {
      headers[name] = value;
    });
    const text = /^application\/json\b/i.test(headers["content-type"] ?? "");
    return {
      statusCode: response.status,
      headers,
      body: text ? new TextDecoder().decode(bytes) : Buffer.from(bytes).toString("base64"),
      isBase64Encoded: !text,
    };
  };
}

/** API Gateway puts a named stage in front of the path (`/prod/…`); `$default` adds nothing. */
function withoutStage(path: string, stage: string | undefined): string {
  if (stage === undefined || stage === "$default") return path;
  const prefix = `/${stage}`;
  return path === prefix || path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : path;
}
