import { createContextKey } from "@connectrpc/connect";

/**
 * The caller's network address as the adapter saw it (the socket's peer locally, API Gateway's
 * `requestContext.http.sourceIp` in Lambda), for per-caller rate limits. Undefined when unknown.
 * Read it with `context.values.get(clientAddressKey)`.
 */
export const clientAddressKey = createContextKey<string | undefined>(undefined, {
  description: "caller's network address",
});
