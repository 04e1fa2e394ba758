import { type Code, ConnectError } from "@connectrpc/connect";
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";
import { codeToHttpStatus, codeToString } from "@connectrpc/connect/protocol-connect";

/**
 * A Connect error response with a JSON body `{"code":"…","message":"…"}`, as Connect's own
 * unary errors look, for requests refused before they reach a Connect handler. `status` defaults
 * to the code's HTTP status; the edge uses 404, 405, 413 and 415 where HTTP has a closer word.
 */
export function errorResponse(
  code: Code,
  message: string,
  options: { readonly status?: number; readonly header?: Readonly<Record<string, string>> } = {},
): UniversalServerResponse {
  const body = new TextEncoder().encode(
    JSON.stringify({
      code: codeToString(code),
      message: new ConnectError(message, code).rawMessage,
    }),
  );
  const header = new Headers({
    "content-type": "application/json",
    "content-length": String(body.byteLength),
    ...options.header,
  });
  return {
    status: options.status ?? codeToHttpStatus(code),
    header,
    body: (async function* () {
      yield body;
    })(),
  };
}
