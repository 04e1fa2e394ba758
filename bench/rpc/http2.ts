import { createClient } from "@connectrpc/connect";
import { createConnectTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { EchoService } from "../../gen/vettid/diagnostics/v1/echo_pb.js";
import { HTTP2_WINDOW_BYTES } from "./environment.js";
import { CALL_TIMEOUT_MS, expectEcho, type Variant } from "./variant.js";

/**
 * The reference point for "Connect as usually deployed": the Connect protocol over HTTP/2 (h2c on
 * loopback) with `@connectrpc/connect-node`, against the environment's HTTP/2 server. All calls
 * share one HTTP/2 connection, as they do with a default Connect transport.
 */
export function http2Variant(): Variant {
  return {
    key: "http2",
    label: "Connect HTTP/2",
    async open(env) {
      const sessionManager = new Http2SessionManager(env.http2BaseUrl, undefined, {
        settings: { initialWindowSize: HTTP2_WINDOW_BYTES },
      });
      const client = createClient(
        EchoService,
        createConnectTransport({
          baseUrl: env.http2BaseUrl,
          httpVersion: "2",
          sessionManager,
          useBinaryFormat: true,
        }),
      );
      return {
        async echo(payload) {
          const response = await client.echo({ payload }, { timeoutMs: CALL_TIMEOUT_MS });
          expectEcho(response.payload.length, payload.length);
        },
        async close() {
          sessionManager.abort();
        },
      };
    },
  };
}
