import { EchoService } from "../../gen/vettid/diagnostics/v1/echo_pb.js";
import {
  createNatsTransport,
  createRpcClient,
  type NatsTransportOptions,
  type ServeNatsOptions,
  serveNats,
} from "../../rpc/index.js";
import { createEchoService } from "../../server/diagnostics/index.js";
import { CALL_TIMEOUT_MS, expectEcho, type Variant } from "./variant.js";

export interface TransportVariantOptions {
  readonly key: string;
  readonly label: string;
  /** Added to `createNatsTransport`'s options (e.g. `{ sealing }`). */
  readonly client?: Partial<Omit<NatsTransportOptions, "connection">>;
  /** Added to `serveNats`'s options (e.g. `{ sealing }`). */
  readonly server?: Partial<Omit<ServeNatsOptions, "connection" | "routes">>;
}

/**
 * The echo service served with `serveNats` and called through `createNatsTransport`, client and
 * server each on their own NATS connection. Extra options make the other transport variants.
 */
export function natsTransportVariant(options: TransportVariantOptions): Variant {
  return {
    key: options.key,
    label: options.label,
    async open(env) {
      const serverConnection = await env.connect(`${options.key}-server`);
      const clientConnection = await env.connect(`${options.key}-client`);
      const server = await serveNats({
        ...options.server,
        connection: serverConnection,
        routes: (router) => router.service(EchoService, createEchoService()),
      });
      const client = createRpcClient(
        EchoService,
        createNatsTransport({ ...options.client, connection: clientConnection }),
      );
      return {
        async echo(payload) {
          const response = await client.echo({ payload }, { timeoutMs: CALL_TIMEOUT_MS });
          expectEcho(response.payload.length, payload.length);
        },
        async close() {
          await server.close();
          await clientConnection.close();
          await serverConnection.close();
        },
      };
    },
  };
}
